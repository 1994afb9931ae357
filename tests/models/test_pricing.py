from embedlab.models.pricing import PRICES_PER_MTOK, price_of


def test_known_prices_and_unknown_models():
    assert price_of("text-embedding-3-small") == (0.02, "USD")
    assert price_of("embedding-v1") == (2.0, "CNY")
    assert price_of("my-own-server-model") is None
    assert all(price > 0 and currency in ("USD", "CNY") for price, currency in PRICES_PER_MTOK.values())
