"""Calling a model with a prompt version, so the call records which version made it.

The call goes through ``llmlab.models``' managed path (priced, retried, recorded) inside
``call_links(prompt_name=, prompt_version=, prompt_hash=)``; an experiment call adds
``experiment=`` and ``arm=`` and counts the unit's exposure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from llmlab.models import Model, Response, call_links, get_model
from llmlab.prompts._experiments import experiments
from llmlab.prompts._registry import prompt_registry
from llmlab.prompts._version import PromptVersion
from llmlab.store import Store

__all__ = ["call_experiment", "call_experiment_sync", "call_prompt", "call_prompt_sync"]


def _resolve(prompt: str | PromptVersion, store: Store | None) -> PromptVersion:
    if isinstance(prompt, PromptVersion):
        return prompt
    return prompt_registry(store=store).get(prompt)


def _model_for(version: PromptVersion, model: str | Model | None) -> Model:
    if isinstance(model, Model):
        return model
    return get_model(model or version.config.model)


async def call_prompt(
    prompt: str | PromptVersion,
    variables: Mapping[str, Any] | None = None,
    *,
    model: str | Model | None = None,
    tags: Mapping[str, str] | None = None,
    store: Store | None = None,
) -> Response:
    """Render ``prompt`` (a reference such as ``"summarize@production"``, or a version)
    with ``variables`` and ask ``model`` (default: the version's configured model, else
    the default model). The recorded call carries the prompt's name, number and hash.
    ``store`` is where the prompt is resolved (default: the default handle).
    """
    version = (
        prompt if isinstance(prompt, PromptVersion) else prompt_registry(store=store).get(prompt)
    )
    request = version.to_request(tags=tags, **dict(variables or {}))
    target = _model_for(version, model)
    with call_links(
        prompt_name=version.name,
        prompt_version=version.version,
        prompt_hash=version.version_hash,
    ):
        return await target.generate(request)


async def call_experiment(
    experiment: str,
    unit: str,
    variables: Mapping[str, Any] | None = None,
    *,
    model: str | Model | None = None,
    tags: Mapping[str, str] | None = None,
    store: Store | None = None,
) -> Response:
    """Serve ``unit`` the version of its arm in ``experiment`` and record the exposure.

    The recorded call carries the experiment and arm besides the prompt version. Once the
    experiment is stopped, the winner (or the control) is served without experiment links.
    """
    exps = experiments(store=store)
    arm, version = exps.version_for(experiment, unit)
    if exps.get(experiment).status != "running":
        # a stopped experiment serves its winner as a plain prompt call
        return await call_prompt(version, variables, model=model, tags=tags, store=store)
    await asyncio.to_thread(exps.expose, experiment, unit)
    with call_links(experiment=experiment, arm=arm):
        return await call_prompt(version, variables, model=model, tags=tags, store=store)


def _run_closing(target: Model, call: Callable[[Model], Awaitable[Response]]) -> Response:
    async def main() -> Response:
        try:
            return await call(target)
        finally:
            # the loop ends with this call: close the connections opened on it
            await target.aclose()

    return asyncio.run(main())


def call_prompt_sync(
    prompt: str | PromptVersion,
    variables: Mapping[str, Any] | None = None,
    *,
    model: str | Model | None = None,
    tags: Mapping[str, str] | None = None,
    store: Store | None = None,
) -> Response:
    """``call_prompt`` for scripts (not inside a running event loop)."""
    version = (
        prompt if isinstance(prompt, PromptVersion) else prompt_registry(store=store).get(prompt)
    )
    return _run_closing(
        _model_for(version, model),
        lambda m: call_prompt(version, variables, model=m, tags=tags, store=store),
    )


def call_experiment_sync(
    experiment: str,
    unit: str,
    variables: Mapping[str, Any] | None = None,
    *,
    model: str | Model | None = None,
    tags: Mapping[str, str] | None = None,
    store: Store | None = None,
) -> Response:
    """``call_experiment`` for scripts (not inside a running event loop)."""
    _, version = experiments(store=store).version_for(experiment, unit)
    return _run_closing(
        _model_for(version, model),
        lambda m: call_experiment(experiment, unit, variables, model=m, tags=tags, store=store),
    )
