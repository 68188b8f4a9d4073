"""Prompt references: ``name``, ``name@label``, ``name:3``, ``name#<hash>``."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass

from llmlab._errors import InputError

__all__ = ["LATEST", "PRODUCTION", "PromptRef", "check_label", "check_name", "current_actor"]

PRODUCTION = "production"
LATEST = "latest"

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,199}$")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$")
_HASH = re.compile(r"^[0-9a-f]{4,64}$")


def check_name(name: str) -> str:
    """A prompt name: letters, digits, ``_ . - /``; no ``@ : #`` (they start references)."""
    if not _NAME.match(name):
        raise InputError(
            f"invalid prompt name {name!r}: use letters, digits and _ . - / "
            "(up to 200 characters; @ : # are reserved for references)"
        )
    if any(part in ("", ".", "..") for part in name.split("/")):
        # names become file paths on pull; `..` or empty parts would leave the folder
        raise InputError(f"invalid prompt name {name!r}: no empty, '.' or '..' parts between /")
    return name


def check_label(label: str, *, settable: bool = False) -> str:
    """A label name; ``latest`` is automatic and cannot be moved by hand."""
    if not _LABEL.match(label):
        raise InputError(
            f"invalid label {label!r}: start with a letter, then letters, digits, _ . -"
        )
    if settable and label == LATEST:
        raise InputError("the 'latest' label is automatic (the newest version); pick another")
    return label


@dataclass(frozen=True, slots=True)
class PromptRef:
    """A parsed reference; exactly one of label, version, hash is set, or none (default)."""

    name: str
    label: str | None = None
    version: int | None = None
    hash: str | None = None

    @classmethod
    def parse(cls, text: str) -> PromptRef:
        """Parse ``name``, ``name@label``, ``name:N`` or ``name#hash``."""
        text = text.strip()
        for sep in ("@", ":", "#"):
            name, found, rest = text.partition(sep)
            if not found:
                continue
            check_name(name)
            if sep == "@":
                return cls(name, label=check_label(rest))
            if sep == ":":
                if not rest.isdigit() or int(rest) < 1:
                    raise InputError(f"bad version in {text!r}: expected name:N with N >= 1")
                return cls(name, version=int(rest))
            if not _HASH.match(rest):
                raise InputError(f"bad hash in {text!r}: expected name#<4 to 64 hex digits>")
            return cls(name, hash=rest)
        return cls(check_name(text))

    def __str__(self) -> str:
        if self.label is not None:
            return f"{self.name}@{self.label}"
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.hash is not None:
            return f"{self.name}#{self.hash}"
        return self.name


def current_actor() -> str:
    """Who is acting, for the label history: ``LLMLAB_USER``, else the login name."""
    actor = os.environ.get("LLMLAB_USER", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
