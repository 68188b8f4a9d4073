"""The one check for a model argument: a name or the managed model, nothing else."""

from __future__ import annotations

from llmlab._errors import InputError
from llmlab.models import Model

__all__ = ["check_model"]


def check_model(model: object, what: str = "model") -> str | Model | None:
    """``model`` if it is a model name, a managed model (``get_model()``) or None.

    Only the managed model prices, records and budgets its calls, so a bare provider
    (or any other object) is refused rather than silently skipping all three.

    Raises:
        InputError: ``model`` is anything else.
    """
    if model is None or isinstance(model, str | Model):
        return model
    raise InputError(
        f"{what} must be a 'provider/model' name or a model from llmlab.models.get_model(), "
        f"not {type(model).__name__}: wrap it with get_model() (or, for a plain Python "
        "function, use LLMEvaluator)"
    )
