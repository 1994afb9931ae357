"""Where model outputs are made and kept: texts -> vectors once (`store.EmbeddingStore`), (query, passage) pairs
-> scores once (`pairs.PairStore`), what models give beyond one dense vector per text, learned sparse rows and token
vectors (`outputs`: one loop for every kind; `shelves`: what each kind keeps per text), the SQLite cache they share
(`cache`), and the Ray engine with its id-keyed vector shards (`engines`)."""
