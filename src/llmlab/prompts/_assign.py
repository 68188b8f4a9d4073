"""Sticky weighted assignment of units (users, sessions, request keys) to experiment arms.

Each unit gets a point in ``[0, 2**32)`` from a keyed hash of the experiment's salt and
the unit (BLAKE2b, so it is the same in every process and after restarts). The space is
cut into *segments*, each owned by one arm; an arm's share of the space is its weight.

Ramping moves as few units as possible: an arm whose weight grows or stays keeps every
segment it had (none of its units move), and an arm whose weight shrinks gives up space
from its highest segments only. The space released is handed to the growing arms. So
ramping a treatment from 5% to 50% keeps all of its first 5% in place, and ramping it
back down keeps the control's units where they were.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmlab._errors import InputError

__all__ = ["SPACE", "Allocation", "unit_point"]

SPACE = 2**32
"""Size of the assignment space; a unit's point is a 32-bit integer."""

Segment = tuple[int, int, str]  # [start, end) owned by arm


def unit_point(salt: str, unit: str) -> int:
    """The unit's fixed point in ``[0, SPACE)`` for an experiment salt."""
    digest = hashlib.blake2b(unit.encode(), digest_size=4, key=salt.encode()[:64]).digest()
    return int.from_bytes(digest, "big")


def _shares(weights: Mapping[str, float]) -> dict[str, int]:
    """Integer shares of SPACE proportional to weights, summing exactly to SPACE."""
    if not weights:
        raise InputError("an experiment needs at least one arm")
    for arm, w in weights.items():
        if not math.isfinite(w) or w < 0:
            raise InputError(f"arm {arm!r}: weight must be a finite number >= 0, got {w}")
    total = sum(weights.values())
    if total <= 0:
        raise InputError("arm weights sum to 0; give at least one arm a positive weight")
    exact = {arm: w / total * SPACE for arm, w in weights.items()}
    shares = {arm: int(x) for arm, x in exact.items()}
    # largest remainder: hand out what flooring left over, biggest fractions first
    left = SPACE - sum(shares.values())
    for arm in sorted(exact, key=lambda a: exact[a] - shares[a], reverse=True)[:left]:
        shares[arm] += 1
    return shares


def _merge(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for start, end, arm in sorted(segments):
        if end <= start:
            continue
        if out and out[-1][2] == arm and out[-1][1] == start:
            out[-1] = (out[-1][0], end, arm)
        else:
            out.append((start, end, arm))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Allocation:
    """Which arm owns which part of the assignment space."""

    segments: tuple[Segment, ...]
    starts: tuple[int, ...]
    arms: tuple[str, ...]

    @classmethod
    def from_segments(cls, segments: Sequence[Sequence[object]]) -> Allocation:
        """Build from stored ``[start, end, arm]`` triples; checks they cover the space."""
        segs = _merge([(int(str(s)), int(str(e)), str(a)) for s, e, a in segments])
        pos = 0
        for start, end, _ in segs:
            if start != pos:
                raise InputError(f"allocation has a gap or overlap at {start}")
            pos = end
        if pos != SPACE:
            raise InputError("allocation does not cover the whole assignment space")
        return cls(segs, tuple(s[0] for s in segs), tuple(s[2] for s in segs))

    @classmethod
    def initial(cls, weights: Mapping[str, float]) -> Allocation:
        """Arms laid out in the given order, each a contiguous band."""
        segs: list[Segment] = []
        pos = 0
        for arm, share in _shares(weights).items():
            segs.append((pos, pos + share, arm))
            pos += share
        return cls.from_segments(segs)

    def arm_of(self, point: int) -> str:
        """The arm owning ``point``."""
        return self.arms[bisect.bisect_right(self.starts, point) - 1]

    def share(self, arm: str) -> int:
        """How much of the space ``arm`` owns."""
        return sum(e - s for s, e, a in self.segments if a == arm)

    def fractions(self) -> dict[str, float]:
        """Each arm's share of the space, as a fraction."""
        out: dict[str, float] = {}
        for s, e, a in self.segments:
            out[a] = out.get(a, 0.0) + (e - s) / SPACE
        return out

    def ramp(self, weights: Mapping[str, float]) -> Allocation:
        """A new allocation with ``weights`` that moves the fewest units.

        Arms not growing keep their lowest segments; growing arms keep all of theirs and
        fill the released space in order.
        """
        target = _shares(weights)
        kept: list[Segment] = []
        pool: list[tuple[int, int]] = []
        for arm in dict.fromkeys(self.arms):
            if arm not in target:
                raise InputError(f"arm {arm!r} has no weight; give it 0 to empty it")
        for arm in dict.fromkeys(self.arms):
            budget = target[arm]
            for start, end, owner in self.segments:
                if owner != arm:
                    continue
                take = min(end - start, budget)
                if take:
                    kept.append((start, start + take, arm))
                if take < end - start:
                    pool.append((start + take, end))
                budget -= take
        pool.sort()
        for arm, want in target.items():
            need = want - sum(e - s for s, e, a in kept if a == arm)
            while need > 0:
                start, end = pool.pop(0)
                take = min(end - start, need)
                kept.append((start, start + take, arm))
                if take < end - start:
                    pool.insert(0, (start + take, end))
                need -= take
        return Allocation.from_segments(kept)
