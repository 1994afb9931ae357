"""Top-k search over embeddings: exact (`exact.top_k`), the faiss / usearch indexes (`ann`), what approximate search
costs (`approximate`), rank fusion (`fusion`), and the index vocabulary every command shares (`names`, numpy-free:
`--help` reads it)."""
