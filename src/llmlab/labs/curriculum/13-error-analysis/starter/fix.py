"""Your fix: post-process the model's answer before it is compared with YYYY-MM-DD.

The check applies `postprocess` to the answers of 60 held-out traces (the same prompt,
other sentences) and measures the pass rate.
"""

from __future__ import annotations


def postprocess(answer: str) -> str:
    """The answer as the application will use it."""
    return answer.strip()
