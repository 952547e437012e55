"""Encoders: the real default model offline, long-text policies, LangChain and function encoders."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from agentmem.encoder import (
    EmbeddingsEncoder,
    EncoderConfig,
    FunctionEncoder,
    SentenceTransformerEncoder,
    normalize,
    resolve_encoder,
)
from agentmem.errors import InvalidInputError, TextTooLongError


def test_default_encoder_is_minilm_unit_norm_and_semantic(encoder):
    assert encoder.name == "all-MiniLM-L6-v2" and encoder.dim == 384
    v = encoder.encode(["Alice moved to Lisbon.", "Alice relocated to Lisbon.", "The stock market fell."])
    assert v.dtype == np.float32 and v.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.8 > 0.2 > v[0] @ v[2]


def test_encode_empty_batch(encoder):
    assert encoder.encode([]).shape == (0, 384)


def test_long_text_chunk_differs_from_truncate_and_warns(encoder, caplog):
    long = (
        " ".join(["The meeting is about budgets."] * 60)
        + " "
        + " ".join(["Penguins live in Antarctica."] * 60)
    )
    chunk = SentenceTransformerEncoder(EncoderConfig(long_text="chunk"))
    trunc = SentenceTransformerEncoder(EncoderConfig(long_text="truncate"))
    assert chunk.token_counts([long])[0] > chunk.window
    with caplog.at_level(logging.WARNING, logger="agentmem"):
        vc = chunk.encode([long])[0]
        vt = trunc.encode([long])[0]
    messages = [r.getMessage() for r in caplog.records]
    assert any("mean of its window-sized chunks" in m for m in messages)
    assert any("first 256 tokens only" in m for m in messages)
    penguin = encoder.encode(["Penguins live in Antarctica."])[0]
    # The truncated key never saw the penguin half; the chunked one did.
    assert vc @ penguin > vt @ penguin + 0.1
    assert np.linalg.norm(vc) == pytest.approx(1.0, abs=1e-5)


def test_long_text_error_policy_names_the_fix():
    enc = SentenceTransformerEncoder(EncoderConfig(long_text="error"))
    with pytest.raises(
        TextTooLongError, match="over all-MiniLM-L6-v2's 256-token window; shorten it or use long_text"
    ):
        enc.encode(["short", "word " * 400])


def test_bad_long_text_policy():
    with pytest.raises(InvalidInputError, match="long_text must be"):
        SentenceTransformerEncoder(EncoderConfig(long_text="drop"))  # type: ignore[arg-type]


def test_langchain_embeddings_are_accepted():
    from langchain_core.embeddings import DeterministicFakeEmbedding

    enc = resolve_encoder(DeterministicFakeEmbedding(size=16))
    assert isinstance(enc, EmbeddingsEncoder) and enc.dim == 16
    v = enc.encode(["a", "b"])
    assert v.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(enc.encode_queries(["a"])[0], v[0], atol=1e-6)  # deterministic per text


def test_function_encoder_and_bad_spec():
    enc = resolve_encoder(lambda texts: [[len(t), 1.0] for t in texts])
    assert isinstance(enc, FunctionEncoder) and enc.dim == 2
    np.testing.assert_allclose(enc.encode(["abc"]), [[3 / np.sqrt(10), 1 / np.sqrt(10)]], atol=1e-6)
    with pytest.raises(InvalidInputError, match="cannot use int as an encoder"):
        resolve_encoder(42)


def test_normalize_keeps_zero_rows_finite():
    out = normalize(np.array([[0.0, 0.0], [3.0, 4.0]]))
    np.testing.assert_allclose(out, [[0, 0], [0.6, 0.8]])


def test_thread_setting_applies_to_batches_and_is_restored():
    import torch

    from agentmem.cpu import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    enc = SentenceTransformerEncoder(EncoderConfig(threads=1))
    seen = []
    real = enc.model.encode

    def spy(*a, **k):
        seen.append(torch.get_num_threads())
        return real(*a, **k)

    enc.model.encode = spy
    try:
        enc.encode(["x"] * 20)  # a batch: the configured thread count
    finally:
        del enc.model.encode
    assert seen == [1] and torch.get_num_threads() == before
