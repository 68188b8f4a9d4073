"""``python -m llmlab``: the same as the ``llmlab`` command."""

from llmlab.cli import main

main()
