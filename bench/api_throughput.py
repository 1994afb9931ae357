"""API backend throughput: concurrency N vs sequential against a local OpenAI-shaped server with 50 ms
of injected latency per request, then a fully cached re-run (0 requests).

The server is the fault-injecting test server (tests/models/servers.py) on 127.0.0.1, answering with
deterministic fake vectors, so what is measured is the client: batching, concurrency, caching.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo, for tests.models.servers

from _env import machine  # noqa: E402


def run(url: str, texts: list[str], concurrency: int, cache: Path | None):
    from embedlab.embedding.cache import EmbeddingCache
    from embedlab.embedding.store import EmbeddingStore
    from embedlab.models import ModelOptions, load_model

    encoder = load_model("openai:bench", ModelOptions(base_url=url, api_key_env="NO_KEY_NEEDED",
                                                        concurrency=concurrency, max_inputs=16))
    store = EmbeddingStore(encoder, batch_size=encoder.preferred_batch, progress=False,
                           cache=EmbeddingCache(cache) if cache else None)
    start = time.perf_counter()
    store.embed(texts, "document")
    return time.perf_counter() - start, encoder.usage["requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3200)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    from tests.models.servers import FaultServer

    texts = [f"passage number {i} about tea, bicycles and notes" for i in range(args.texts)]
    server = FaultServer(latency=args.latency)
    try:
        sequential, seq_requests = run(server.url, texts, 1, None)
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "cache.sqlite"
            concurrent, con_requests = run(server.url, texts, args.concurrency, cache)
            cached, cached_requests = run(server.url, texts, args.concurrency, cache)
    finally:
        server.close()
    print(machine("httpx", "tenacity"))
    print(f"{args.texts:,} texts, 16 per request, {args.latency * 1000:.0f} ms injected latency per request\n")
    print("| run | requests | seconds | texts/s | speed-up vs sequential |\n|---|---|---|---|---|")
    for label, seconds, requests in (("sequential (concurrency 1)", sequential, seq_requests),
                                     (f"concurrency {args.concurrency}", concurrent, con_requests),
                                     ("cached re-run", cached, cached_requests)):
        print(f"| {label} | {requests:,} | {seconds:.2f} | {args.texts / seconds:,.0f} | "
              f"{sequential / seconds:.1f}x |")
    ratio = sequential / concurrent
    print(f"\ngoal concurrency {args.concurrency} >= 6x sequential: {'met' if ratio >= 6 else 'NOT met'} "
          f"({ratio:.1f}x); cached re-run sent {cached_requests} requests")


if __name__ == "__main__":
    main()
