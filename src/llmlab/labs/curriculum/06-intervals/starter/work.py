"""Scratch space for lab 6: run it with `python work.py`. The check does not read it."""

from llmlab.evals import wilson_interval

print(wilson_interval(7, 10))
