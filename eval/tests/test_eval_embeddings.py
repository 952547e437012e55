"""The embedding cache: each distinct text encoded once, shared across instances through disk."""

from __future__ import annotations

import numpy as np
from agentmem_eval.embeddings import CacheConfig, CachedEncoder


class Counting:
    """Records what it is asked to encode; wraps the fake encoder's function."""

    name, dim = "counting-bow", 64

    def __init__(self, fn) -> None:
        self.fn = fn
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen += list(texts)
        return self.fn(list(texts)) + 0.123456789  # not exactly representable in float16

    encode_queries = encode


def test_each_text_encoded_once_and_cached_on_disk(tmp_path, fake_encoder):
    texts = ["alpha beta", "gamma", "alpha beta", "delta"]
    first = Counting(fake_encoder.fn)
    cold = CachedEncoder(first, CacheConfig(directory=tmp_path)).encode(texts)
    assert first.seen == ["alpha beta", "gamma", "delta"]  # duplicates encoded once
    assert np.array_equal(cold[0], cold[2])
    second = Counting(fake_encoder.fn)
    warm = CachedEncoder(second, CacheConfig(directory=tmp_path)).encode(texts[::-1])
    assert second.seen == []  # all from disk
    assert np.array_equal(warm[::-1], cold)  # a cold and a warm run see identical (float16) vectors
    queries = CachedEncoder(second, CacheConfig(directory=tmp_path)).encode_queries(["gamma"])
    assert second.seen == ["gamma"]  # queries are cached apart from documents
    assert queries.shape == (1, 64)


def test_cache_can_be_disabled(tmp_path, fake_encoder):
    enc = Counting(fake_encoder.fn)
    cached = CachedEncoder(enc, CacheConfig(directory=tmp_path / "never", enabled=False))
    cached.encode(["x"])
    cached.encode(["x"])
    assert enc.seen == ["x"]  # still de-duplicated in memory
    assert not (tmp_path / "never").exists()
