from embedlab.tasks.fingerprint import content_hash


def test_the_hash_follows_content_not_key_order():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert content_hash(["绿茶"]).startswith("sha256:") and len(content_hash(["绿茶"])) == 7 + 64
