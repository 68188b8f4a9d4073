"""A second correct fix: try datetime formats on every date-like span of the answer."""

from __future__ import annotations

import re
from datetime import datetime

_SPAN = re.compile(r"\d{1,2} [A-Z][a-z]+,? \d{4}|[A-Z][a-z]+ \d{1,2},? \d{4}")
_FORMATS = ("%d %B %Y", "%B %d %Y")


def postprocess(answer: str) -> str:
    for span in _SPAN.findall(answer):
        for fmt in _FORMATS:
            try:
                return datetime.strptime(span.replace(",", ""), fmt).date().isoformat()
            except ValueError:
                continue
    return answer.strip()
