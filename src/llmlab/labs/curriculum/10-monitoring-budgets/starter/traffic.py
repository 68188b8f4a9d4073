"""Write a week of the support app's traffic to traffic.db, to explore with the monitor.

    python traffic.py            # a new week each time (the seed is printed)
    python traffic.py 123        # the week of seed 123 (the check prints its seeds)
    LLMLAB_DB=traffic.db llmlab monitor stats --by prompt

The check makes fresh weeks the same way and runs your triage.py on each.
"""

import random
import runpy
import sys
from pathlib import Path

import llmlab
from llmlab.labs import find_lab

seed = int(sys.argv[1]) if len(sys.argv) > 1 else random.randrange(1, 1_000_000)
make_week = runpy.run_path(str(find_lab("monitoring-budgets").hidden / "traffic.py"))["make_week"]
path = Path("traffic.db")
path.unlink(missing_ok=True)
with llmlab.open(str(path)) as store:
    make_week(store, seed)
print(f"wrote a week of traffic (seed {seed}) to {path}")
print(f"next: LLMLAB_DB={path} llmlab monitor stats --by prompt")
