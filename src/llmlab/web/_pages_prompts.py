"""Prompt pages: names, a prompt's versions with metrics, diffs, label moves; experiments."""

from __future__ import annotations

import getpass
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from llmlab._errors import InputError, NotFoundError
from llmlab.store import dashboard as db
from llmlab.web._render import render, store_of, wants_json
from llmlab.web._security import csrf_valid
from llmlab.web._sources import experiment_json, label_move, prompt_diff_json, version_metrics_json

__all__ = ["router"]

router = APIRouter()

Name = Annotated[str, Path(min_length=1, max_length=200)]
Ref = Annotated[str | None, Query(max_length=100)]


@router.get("/api/prompts", tags=["prompts"], summary="Prompt names with versions and labels")
@router.get("/prompts", include_in_schema=False)
def prompts_page(request: Request) -> Response:
    return render(request, "prompts.html", {"prompts": db.list_prompt_names(store_of(request))})


@router.get(
    "/api/prompts/{name}",
    tags=["prompts"],
    summary="A prompt: versions with labels and metrics, label history, a diff of two versions",
)
@router.get("/prompts/{name}", include_in_schema=False)
def prompt_page(request: Request, name: Name, a: Ref = None, b: Ref = None) -> Response:
    store = store_of(request)
    versions = db.prompt_versions(store, name)
    if not versions:
        raise NotFoundError("prompt", name)
    labels: dict[int, list[str]] = {}
    for row in db.list_prompt_names(store):
        if row.name == name:
            for label, version in sorted(row.labels.items()):
                labels.setdefault(version, []).append(label)
    diff = None
    if a or b:
        newest = versions[0].version
        older = versions[1].version if len(versions) > 1 else newest
        diff = prompt_diff_json(store, name, a or str(older), b or str(newest))
    data = {
        "name": name,
        "versions": versions,
        "labels": labels,
        "metrics": version_metrics_json(store, name),
        "history": db.prompt_label_history(store, name),
        "diff": diff,
        "a": a or "",
        "b": b or "",
    }
    return render(request, "prompt.html", data)


@router.get("/api/prompts/{name}/diff", tags=["prompts"], summary="Diff of two versions")
def prompt_diff(
    request: Request,
    name: Name,
    a: Annotated[str, Query(min_length=1, max_length=100)],
    b: Annotated[str, Query(min_length=1, max_length=100)],
) -> Response:
    return render(request, "prompt.html", prompt_diff_json(store_of(request), name, a, b))


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise InputError("cross-site request refused: submit the form from the dashboard")


@router.post(
    "/api/prompts/{name}/labels",
    tags=["prompts"],
    summary="Move or roll back a label (form: label, version or rollback=1, csrf, confirm=1)",
)
@router.post("/prompts/{name}/labels", include_in_schema=False)
async def move_label(request: Request, name: Name) -> Response:
    form = await _form(request)
    _check_origin(request)
    if not csrf_valid(request.app.state.secret, form.get("csrf")):
        return render(
            request,
            "error.html",
            {"status": 403, "message": "form expired or not from this dashboard; reload the page"},
            403,
        )
    label = form.get("label", "").strip()
    rollback = form.get("rollback") == "1"
    version = None if rollback else form.get("version", "").strip()
    if not label or (version is not None and not version):
        raise InputError("give a label and a version (or rollback=1)")
    store = store_of(request)
    if form.get("confirm") != "1":
        found = [r for r in db.list_prompt_names(store) if r.name == name]
        if not found:
            raise NotFoundError("prompt", name)
        current = found[0].labels.get(label)
        data = {
            "name": name,
            "label": label,
            "version": version,
            "rollback": rollback,
            "current": current,
            "confirm_required": True,
        }
        return render(request, "confirm.html", data)
    move = label_move(store, name, label, version=version, actor=_actor(request))
    if wants_json(request):
        return render(request, "confirm.html", {"move": move})
    return RedirectResponse(f"/prompts/{quote(name, safe='')}#history", status_code=303)


def _actor(request: Request) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    host = request.client.host if request.client else "?"
    return f"{user} (dashboard {host})"


@router.get("/api/experiments", tags=["experiments"], summary="Experiments with their arms")
@router.get("/experiments", include_in_schema=False)
def experiments_page(request: Request) -> Response:
    rows = db.list_experiments_page(store_of(request))
    return render(request, "experiments.html", {"experiments": rows})


@router.get(
    "/api/experiments/{name}",
    tags=["experiments"],
    summary="An experiment's report: per arm against the control, with the verdict",
)
@router.get("/experiments/{name}", include_in_schema=False)
def experiment_page(request: Request, name: Name) -> Response:
    report = experiment_json(store_of(request), name)
    return render(request, "experiment.html", report)
