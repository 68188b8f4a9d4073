"""Lab 7: the tool's recomputation of the paired comparisons from results.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from statistics import NormalDist

from llmlab.evals import mcnemar_exact

_RESULTS = Path(__file__).parent.parent / "starter" / "results.csv"


def _columns() -> dict[str, list[int]]:
    with _RESULTS.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [int(r[name]) for r in rows] for name in ("v1", "v2", "v3", "v4")}


def _unpaired_p(a: list[int], b: list[int]) -> float:
    n = len(a)
    pooled = (sum(a) + sum(b)) / (2 * n)
    se = math.sqrt(pooled * (1 - pooled) * 2 / n)
    z = abs(sum(a) - sum(b)) / n / se
    return 2 * (1 - NormalDist().cdf(z))


def expected(lab_dir: Path) -> dict[str, object]:
    cols = _columns()
    out: dict[str, object] = {}
    production = "v1"
    for version in ("v2", "v3"):
        a, b = cols["v1"], cols[version]
        a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
        b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
        p = mcnemar_exact(a_only, b_only)
        promote = p < 0.05 and b_only > a_only
        out[f"{version}_v1_only"] = a_only
        out[f"{version}_only"] = b_only
        out[f"{version}_p_paired"] = p
        out[f"{version}_p_unpaired"] = _unpaired_p(a, b)
        out[f"{version}_promote"] = promote
        if promote and production == "v1":
            production = version
    out["production"] = production
    # v4 is a later change to v2, already shipped: compare it with what it replaced
    a, b = cols["v2"], cols["v4"]
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    p = mcnemar_exact(a_only, b_only)
    out["v4_p_paired"] = p
    out["v4_regressed"] = p < 0.05 and a_only > b_only
    out["production_after_v4"] = "v2" if out["v4_regressed"] else "v4"
    return out
