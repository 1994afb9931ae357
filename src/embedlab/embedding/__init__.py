"""Stores of what models give beyond one dense vector per text: learned sparse rows and token vectors
(`outputs.py`, one loop for every kind: dedup, length-sorted batches, cache, checks naming the model, progress,
seconds), and what each kind keeps per text (`shelves.py`). `embed.EmbeddingStore` is the dense one."""
