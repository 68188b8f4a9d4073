"""Reference: turn a date written in words into YYYY-MM-DD; keep an ISO date if present."""

from __future__ import annotations

import re

MONTHS = "January February March April May June July August September October November December"
_MONTH = {name: number for number, name in enumerate(MONTHS.split(), 1)}
_NAMES = "|".join(_MONTH)
_DAY_FIRST = re.compile(rf"\b(\d{{1,2}}) ({_NAMES}),? (\d{{4}})")
_MONTH_FIRST = re.compile(rf"\b({_NAMES}) (\d{{1,2}}),? (\d{{4}})")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def postprocess(answer: str) -> str:
    if found := _DAY_FIRST.search(answer):
        day, month, year = found.groups()
        return f"{int(year):04d}-{_MONTH[month]:02d}-{int(day):02d}"
    if found := _MONTH_FIRST.search(answer):
        month, day, year = found.groups()
        return f"{int(year):04d}-{_MONTH[month]:02d}-{int(day):02d}"
    if found := _ISO.search(answer):
        return found.group(0)
    return answer.strip()
