"""Published prices of paid embedding models, per million input tokens (override where you pay less)."""

from __future__ import annotations

PRICES_PER_MTOK = {
    "text-embedding-3-small": (0.02, "USD"),
    "text-embedding-3-large": (0.13, "USD"),
    "text-embedding-ada-002": (0.10, "USD"),
    # Qianfan: 0.002 CNY per 1k tokens (Baidu's qianfan SDK price table)
    "embedding-v1": (2.0, "CNY"), "bge-large-zh": (2.0, "CNY"), "bge-large-en": (2.0, "CNY"),
    "tao-8k": (2.0, "CNY"),
}


def price_of(model: str) -> tuple[float, str] | None:
    return PRICES_PER_MTOK.get(model)
