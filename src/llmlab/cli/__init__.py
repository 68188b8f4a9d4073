"""The ``llmlab`` command line."""

from llmlab.cli._main import main

__all__ = ["main"]
