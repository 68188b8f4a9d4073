"""Finding a stored run by id, unique id prefix or ``latest`` (typed rows, a store handle)."""

from __future__ import annotations

import difflib

from llmlab._errors import InputError, NotFoundError
from llmlab.store import RunFacts, Store, match_run_ids, resolve_store, run_facts

__all__ = ["find_run"]


def find_run(ref: str, *, store: Store | None = None) -> RunFacts:
    """The run ``ref`` names: an id, a unique id prefix, or ``latest``.

    Raises:
        NotFoundError: no run matches (the nearest ids are named).
        InputError: the prefix matches several runs.
    """
    db = resolve_store(store)
    if ref == "latest":
        newest = match_run_ids(db, "", limit=1)
        if not newest:
            raise NotFoundError("eval run", ref)
        ref = newest[0]
    matches = match_run_ids(db, ref)
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise InputError(
            f"eval run {ref!r} is ambiguous: {len(matches)} runs start with it ({shown}); "
            "give more of the id"
        )
    found = run_facts(db, matches[0]) if matches else None
    if found is None:
        recent = match_run_ids(db, "")
        nearest = difflib.get_close_matches(ref, recent, n=5, cutoff=0.6)
        raise NotFoundError("eval run", ref, candidates=nearest or recent[:5])
    return found
