"""Prompts as files: a folder of YAML, or Markdown with YAML front matter.

A YAML file (``summarize.yaml``)::

    template: |
      Summarize {{ text }} in {{ words }} words.
    variables: {text: null, words: 50}     # null: required
    config: {model: openai/gpt-4o-mini, temperature: 0.2, max_tokens: 200}
    labels: [staging]                       # labels pushed with it
    message: shorter summaries

or ``messages: [{role: system, content: ...}, {role: user, content: ...}]`` for a chat
prompt. A Markdown file carries the same keys in front matter and the template as its
body. The prompt's name is ``name:`` or the file's path under the folder without suffix.
``push`` registers every file (a file whose content is registered already adds nothing);
``pull`` writes the registry's versions back as files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import yaml
from pydantic import ValidationError

from llmlab._errors import InputError, TemplateError
from llmlab._json import JsonObject
from llmlab.prompts._refs import check_name
from llmlab.prompts._registry import PromptRegistry, prompt_registry
from llmlab.prompts._version import PromptVersion
from llmlab.store import Store

__all__ = [
    "PromptDocument",
    "PromptFile",
    "PushResult",
    "pull_prompts",
    "push_prompts",
    "read_prompt_file",
]

SUFFIXES = (".yaml", ".yml", ".md")
_KEYS = {
    "name",
    "template",
    "messages",
    "variables",
    "config",
    "metadata",
    "syntax",
    "labels",
    "message",
    "author",
}
# the YAML type each optional key must have, and how to say so
_SHAPES: dict[str, tuple[tuple[type, ...], str]] = {
    "variables": ((dict, list), "a mapping of name: default (null: required) or a list of names"),
    "metadata": ((dict,), "a mapping"),
    "config": ((dict,), "a mapping of model, temperature, max_tokens, json_schema"),
    "labels": ((list, str), "a label or a list of labels"),
    "messages": ((list,), "a list of {role, content} mappings"),
}


@dataclass(frozen=True, slots=True)
class PromptFile:
    """A prompt read from a file: its name, version and labels to set."""

    path: Path
    name: str
    version: PromptVersion
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PushResult:
    """What pushing one file did."""

    path: str
    name: str
    version: int
    hash: str
    created: bool
    labels_moved: tuple[str, ...]

    def to_dict(self) -> JsonObject:
        """JSON-ready form."""
        return {
            "path": self.path,
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "created": self.created,
            "labels_moved": list(self.labels_moved),
        }


def _load_yaml(text: str, path: Path, first_line: int = 1) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"invalid YAML: {problem}", path=path, line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("expected a mapping of keys (template, variables ...)", path=path)
    return data


def _key_lines(text: str, first_line: int = 1) -> dict[str, int]:
    """The file line of each top-level key of a YAML mapping (empty when not one)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {
        str(key.value): first_line + int(key.start_mark.line)
        for key, _ in root.value
        if isinstance(key, yaml.ScalarNode)
    }


def _split_front_matter(text: str, path: Path) -> tuple[str, str]:
    """A Markdown file's front matter (YAML from its line 2; empty when it has none) and body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return "", text
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    raise InputError("front matter opened with --- is never closed", path=path, line=1)


def _check_keys(data: Mapping[str, Any], path: Path, lines: dict[str, int]) -> None:
    """Unknown keys and values of the wrong type, named with their line."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        known = ", ".join(sorted(_KEYS))
        raise InputError(
            f"unknown key(s) {', '.join(unknown)}; known: {known}",
            path=path,
            line=lines.get(unknown[0]),
        )
    for key, (kinds, what) in _SHAPES.items():
        if data.get(key) is not None and not isinstance(data[key], kinds):
            raise InputError(f"'{key}' must be {what}", path=path, line=lines.get(key))


def _input_key(message: str) -> str:
    """Which key a PromptVersion input error is about, to point at its line."""
    if message.startswith(("chat message", "a chat template")):
        return "messages"
    return "variables" if "variable" in message else "template"


def read_prompt_file(path: Path, root: Path | None = None) -> PromptFile:
    """Read one prompt file; errors name the file (and line where YAML says it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    first_line: int | None
    if path.suffix == ".md":
        front, body = _split_front_matter(text, path)
        data = _load_yaml(front, path, 2)
        lines = _key_lines(front, 2)
        if "template" in data or "messages" in data:
            raise InputError("a Markdown prompt's template is its body, not a key", path=path)
        data["template"] = body
        first_line = text.count("\n") - body.count("\n") + 1
    else:
        data = _load_yaml(text, path)
        first_line = _template_line(text)
        lines = _key_lines(text)
    _check_keys(data, path, lines)
    if ("template" in data) == ("messages" in data):
        raise InputError("give exactly one of 'template' or 'messages'", path=path)
    default_name = path.relative_to(root).with_suffix("").as_posix() if root else path.stem
    name = str(data.get("name") or default_name)
    try:
        check_name(name)
    except InputError as exc:
        raise InputError(str(exc), path=path, line=lines.get("name")) from None
    labels = data.get("labels") or []
    if isinstance(labels, str):
        labels = [labels]
    try:
        version = PromptVersion(
            data["template"] if "template" in data else data["messages"],
            data.get("variables"),
            data.get("metadata"),
            config=data.get("config"),
            message=data.get("message"),
            author=data.get("author"),
            syntax=data.get("syntax", "auto"),
        )
    except TemplateError as exc:
        line = first_line + exc.line - 1 if first_line and exc.line else None
        raise TemplateError(_bare_message(exc), path=path, line=line) from None
    except InputError as exc:
        message = _bare_message(exc)
        key = _input_key(message)
        raise InputError(message, path=path, line=lines.get(key, first_line)) from None
    except ValidationError as exc:  # the model configuration
        problems = "; ".join(
            f"config.{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(problems, path=path, line=lines.get("config")) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"invalid prompt: {exc}", path=path) from None
    return PromptFile(path, name, version, tuple(str(x) for x in labels))


def _bare_message(exc: InputError) -> str:
    """The message without its ``path:line:`` prefix."""
    text = str(exc)
    if exc.path is not None:
        prefix = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
        text = text.removeprefix(prefix)
    return text


def _template_line(text: str) -> int | None:
    """The file line where a YAML file's ``template`` text starts (None if unknown)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "template":
            block = isinstance(value, yaml.ScalarNode) and value.style in ("|", ">")
            return int(value.start_mark.line) + 1 + (1 if block else 0)
    return None


def _files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise InputError("no such folder", path=folder)
    return sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def push_prompts(
    folder: Path, registry: PromptRegistry | None = None, *, store: Store | None = None
) -> list[PushResult]:
    """Register every prompt file under ``folder``; unchanged files add no version.

    Every file is read and checked before anything is written. Without ``registry``,
    the shared registry of ``store`` (default: the default handle) is used.
    """
    registry = registry or prompt_registry(store=store)
    root = folder if folder.is_dir() else folder.parent
    files = [read_prompt_file(p, root) for p in _files(folder)]
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"several files define prompt(s) {', '.join(twice)}", path=folder)
    results: list[PushResult] = []
    for pf in files:
        stored, created = registry.add(pf.name, pf.version)
        moved = tuple(
            label
            for label in pf.labels
            if registry.set_label(pf.name, label, stored.version or 0) is not None
        )
        results.append(
            PushResult(
                path=str(pf.path),
                name=pf.name,
                version=stored.version or 0,
                hash=stored.version_hash,
                created=created,
                labels_moved=moved,
            )
        )
    return results


class _BlockDumper(yaml.SafeDumper):
    pass


def _str_block(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str_block)


class _MessageDocument(TypedDict):
    role: str
    content: str


class PromptDocument(TypedDict, total=False):
    """A prompt file's keys (``template`` or ``messages``; the rest when set)."""

    name: str | None
    template: str
    messages: list[_MessageDocument]
    variables: JsonObject
    config: JsonObject
    metadata: Mapping[str, object]
    """Free-form, as the author wrote it."""
    syntax: str
    message: str


def version_document(version: PromptVersion) -> PromptDocument:
    """The file form of a version (keys as ``read_prompt_file`` reads them)."""
    doc: PromptDocument = {"name": version.name}
    if isinstance(version.template, str):
        doc["template"] = version.template
    else:
        doc["messages"] = [{"role": m.role, "content": m.content} for m in version.template]
    if version.variables:
        doc["variables"] = version.variables
    if version.config.to_dict():
        doc["config"] = version.config.to_dict()
    if version.metadata:
        doc["metadata"] = version.metadata
    if version.syntax != "jinja":
        doc["syntax"] = version.syntax
    if version.message:
        doc["message"] = version.message
    return doc


def pull_prompts(
    folder: Path,
    registry: PromptRegistry | None = None,
    names: Iterable[str] | None = None,
    *,
    label: str | None = None,
    store: Store | None = None,
) -> list[Path]:
    """Write each prompt (its ``label``, else production, else latest) as ``NAME.yaml``.

    An existing ``NAME.md`` is rewritten as Markdown instead. Without ``registry``, the
    shared registry of ``store`` (default: the default handle) is used.
    """
    registry = registry or prompt_registry(store=store)
    wanted = list(names) if names else [s.name for s in registry.list_prompts()]
    written: list[Path] = []
    for name in wanted:
        version = registry.get(f"{name}@{label}" if label else name)
        doc = version_document(version)
        md = folder / f"{name}.md"
        header = f"# llmlab prompt {name}:{version.version} #{version.version_hash}\n"
        if md.exists() and isinstance(version.template, str):
            body = doc.pop("template")
            doc.pop("name")
            front = yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
            text = f"---\n{header}{front if doc else ''}---\n{body}"
            target = md
        else:
            dumped = yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
            text = header + dumped
            target = folder / f"{name}.yaml"
        if not target.resolve().is_relative_to(folder.resolve()):
            raise InputError(f"prompt {name!r} would be written outside the folder", path=folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
