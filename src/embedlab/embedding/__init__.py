"""Where model outputs are made and kept: texts -> vectors once (`store.EmbeddingStore`), (query, passage) pairs
-> scores once (`pairs.PairStore`), the SQLite cache they share (`cache`), and the Ray engine with its id-keyed
vector shards (`engines`)."""
