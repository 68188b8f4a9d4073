"""The grader's copies of the summarisers: the known-good one and buggy versions.

The learner sees `summarize` and `summarize_rambling` (starter/app.py); the other bugs
are held out, so a suite that only targets the visible bug does not pass.
"""

from __future__ import annotations

from pathlib import Path

import yaml

_HERE = Path(__file__).parent
_ARTICLES: dict[str, str] = yaml.safe_load((_HERE.parent / "starter" / "articles.yaml").read_text())
_APP: dict[str, object] = {}
exec((_HERE.parent / "starter" / "app.py").read_text(), _APP)  # noqa: S102 - the lab's own file
GOOD: dict[str, str] = _APP["GOOD"]  # type: ignore[assignment]
_ORDER = list(GOOD)


def _article_id(text: str) -> str:
    for key, article in _ARTICLES.items():
        if article.strip() == str(text).strip():
            return key
    raise KeyError("summarize() only knows the articles in articles.yaml: use them as inputs")


def summarize(text: str) -> str:
    return GOOD[_article_id(text)]


def rambling(text: str) -> str:
    _article_id(text)
    return str(text)


def truncated(text: str) -> str:
    """Stopped after a handful of tokens (max_tokens set too low)."""
    return GOOD[_article_id(text)][:28]


def generic(text: str) -> str:
    """Fluent, the right length, and says nothing."""
    _article_id(text)
    return "This article explains an interesting topic and describes how it works in detail."


def off_topic(text: str) -> str:
    """Answers with the summary of another article (a caching bug)."""
    key = _article_id(text)
    return GOOD[_ORDER[(_ORDER.index(key) + 3) % len(_ORDER)]]
