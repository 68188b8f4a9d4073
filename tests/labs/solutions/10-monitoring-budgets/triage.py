"""Second solution: recomputed from the raw calls (exact nearest-rank p95), not from the
rollups `monitor stats` reads."""

import math
from collections import defaultdict
from decimal import Decimal

from llmlab.store import Store, iter_calls


def slow_and_costly(store: Store) -> dict[str, object]:
    latencies: dict[str, list[float]] = defaultdict(list)
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for call in iter_calls(store):
        if call.prompt_name is None or call.status != "ok":
            continue  # calls with no prompt version are not a version to blame
        key = f"{call.prompt_name}@{call.prompt_version}"
        latencies[key].append(call.duration_s)
        costs[key] += call.cost or 0

    def p95(key: str) -> float:
        ordered = sorted(latencies[key])
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    def per_call(key: str) -> Decimal:
        return costs[key] / len(latencies[key])

    worst = max(latencies, key=lambda key: (p95(key), per_call(key)))
    return {"prompt": worst, "p95_latency_s": p95(worst), "cost_per_call": per_call(worst)}
