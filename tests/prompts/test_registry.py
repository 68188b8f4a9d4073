"""The store-backed registry: versions, references, labels, history, diff, archive."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from llmlab import InputError, NotFoundError
from llmlab.prompts import (
    Experiments,
    PromptArchivedWarning,
    PromptRegistry,
    PromptVersion,
    assign,
    clear_prompt_cache,
    get_prompt,
    prompt_registry,
)
from llmlab.store import Store


def test_seed_registry_example_works_and_survives_the_process(registry: PromptRegistry) -> None:
    v1 = PromptVersion(
        template="Extract key information from: {text}",
        variables={},
        metadata={"author": "engineer_1", "avg_tokens": 150, "quality_score": 0.72},
    )
    registry.register("extraction", v1, set_active=True)
    v2 = PromptVersion(
        template="Extract key information from the following text.\n\nText: {text}\n",
        variables={},
        metadata={"author": "engineer_2", "avg_tokens": 200, "quality_score": 0.85},
    )
    registry.register("extraction", v2)
    active = registry.get_active("extraction")
    assert active.version_hash == v1.version_hash
    assert active.render(text="Sample") == "Extract key information from: Sample"
    comparison = registry.compare_versions("extraction", v1.version_hash, v2.version_hash)
    assert comparison["template_diff"] is True
    assert comparison["v2_metadata"]["quality_score"] == 0.85
    assert "+Text: {text}" in comparison["diff"]["template"]
    # another handle on the same database (another process) reads the same from it
    with Store(registry.store.url) as other:
        again = PromptRegistry(other)
        assert again.get_active("extraction").version_hash == v1.version_hash
        assert again.get("extraction:2").metadata["author"] == "engineer_2"


def test_numbers_and_identical_content(registry: PromptRegistry) -> None:
    a = registry.register("greet", PromptVersion("Hi {{ n }}"))
    b = registry.register("greet", PromptVersion("Hello {{ n }}"))
    again = registry.register("greet", PromptVersion("Hi {{ n }}", message="same text"))
    assert (a.version, b.version, again.version) == (1, 2, 1)
    assert [v.version for v in registry.versions("greet")] == [1, 2]
    other = registry.register("other", PromptVersion("Hi {{ n }}"))
    assert other.version == 1


def test_references(registry: PromptRegistry) -> None:
    one = registry.register("p", PromptVersion("one"))
    two = registry.register("p", PromptVersion("two"), label="staging")
    assert registry.get("p").version == 2  # no production: latest
    registry.promote("p", 1)
    assert registry.get("p").version == 1
    assert registry.get("p@production").version == 1
    assert registry.get("p@staging").version == 2
    assert registry.get("p@latest").version == 2
    assert registry.get("p:1").version_hash == one.version_hash
    assert registry.get(f"p#{two.version_hash}").version == 2
    assert registry.get(f"p#{two.version_hash[:6]}").version == 2


def test_unknown_things_list_nearest(registry: PromptRegistry) -> None:
    registry.register("summarize", PromptVersion("s {{ x }}"), label="staging")
    with pytest.raises(NotFoundError, match="did you mean: summarize"):
        registry.get("sumarize")
    with pytest.raises(NotFoundError, match="summarize:1"):
        registry.get("summarize:7")
    with pytest.raises(NotFoundError, match="summarize@staging"):
        registry.get("summarize@stagin")
    with pytest.raises(NotFoundError, match="summarize#"):
        registry.get("summarize#abcdef")
    with pytest.raises(InputError, match="name:N"):
        registry.get("summarize:x")
    with pytest.raises(NotFoundError, match="summarize@staging"):
        registry.rollback("summarize", "stagin")


def test_empty_store_says_so_and_how_to_add(registry: PromptRegistry) -> None:
    with pytest.raises(NotFoundError, match="has no prompts yet; add one with"):
        registry.get("anything")


def test_label_moves_history_and_rollback(registry: PromptRegistry) -> None:
    for text in ("a", "b", "c"):
        registry.register("p", PromptVersion(text))
    registry.set_label("p", "production", 1, actor="ann")
    registry.set_label("p", "production", 2, actor="bob")
    assert registry.set_label("p", "production", 2, actor="bob") is None  # duplicate: no-op
    registry.set_label("p", "production", 3, actor="cy")
    history = registry.history("p", "production")
    assert [(m.from_version, m.to_version, m.actor) for m in history] == [
        (None, 1, "ann"),
        (1, 2, "bob"),
        (2, 3, "cy"),
    ]
    assert all(m.at.tzinfo is not None for m in history)
    assert registry.rollback("p", "production").to_version == 2
    assert registry.get("p").version == 2
    assert registry.rollback("p", "production").to_version == 1  # rollbacks stack
    with pytest.raises(InputError, match="no earlier version"):
        registry.rollback("p", "production")
    with pytest.raises(InputError, match="automatic"):
        registry.set_label("p", "latest", 1)


def test_label_seen_by_other_registry_after_ttl(store: Store) -> None:
    writer = PromptRegistry()
    writer.register("p", PromptVersion("a"), set_active=True)
    writer.register("p", PromptVersion("b"))
    reader = PromptRegistry(label_ttl_s=0.0)
    assert reader.get("p").version == 1
    writer.promote("p", 2)
    assert reader.get("p").version == 2


def test_diff(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("Hello {{ n }}\nBye", {"n": "x"}))
    registry.register(
        "p", PromptVersion("Hi {{ n }}\nBye", {"n": "y", "m": None}, config={"temperature": 0})
    )
    d = registry.diff("p", 1, 2)
    assert "-Hello {{ n }}" in d.template and "+Hi {{ n }}" in d.template
    assert {c.key: (c.a, c.b) for c in d.variables} == {"m": ("(absent)", None), "n": ("x", "y")}
    assert [(c.key, c.b) for c in d.config] == [("temperature", 0.0)]
    assert "temperature" in d.to_text()
    assert not registry.diff("p", 1, 1).has_changes


def test_archive_hides_but_resolves_with_warning(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"))
    registry.register("p", PromptVersion("b"))
    registry.register("gone", PromptVersion("x"))
    registry.archive("p", 2)
    registry.archive("gone", 1)
    assert [v.version for v in registry.versions("p")] == [1]
    assert registry.get("p").version == 1  # latest skips archived versions
    assert [s.name for s in registry.list_prompts()] == ["p"]
    with pytest.warns(PromptArchivedWarning, match="p:2"):
        assert registry.get("p:2").render() == "b"
    with pytest.raises(InputError, match="archived"):
        registry.promote("p", 2)
    registry.archive("p", 2, archived=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert registry.get("p:2").version == 2


def test_resolving_from_cache_does_not_touch_the_store(
    registry: PromptRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.register("p", PromptVersion("a"), set_active=True)
    registry.get("p@production")

    def no_store() -> None:
        raise AssertionError("the store was used")

    monkeypatch.setattr(registry.store, "read", no_store)
    monkeypatch.setattr(registry.store, "write", no_store)
    for _ in range(100):
        assert registry.get("p@production").version == 1
        assert registry.get("p").version == 1


@pytest.mark.parametrize("name", ["a/../../evil", "../x", "a//b", "a/", "a/./b"])
def test_names_cannot_climb_out_of_a_pull_folder(registry: PromptRegistry, name: str) -> None:
    # a name becomes NAME.yaml under the pull folder; `..` would write elsewhere
    with pytest.raises(InputError, match="invalid prompt name"):
        registry.register(name, PromptVersion("hi"))
    assert registry.register("team/summ.v2", PromptVersion("hi")).version == 1


def test_caches_belong_to_the_handle(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"), set_active=True)
    assert prompt_registry() is prompt_registry(store=registry.store)
    with Store(registry.store.url) as other:
        mine, theirs = prompt_registry(store=registry.store), prompt_registry(store=other)
        assert mine is not theirs and theirs.store is other
        assert theirs.get("p").version == 1
        slow = PromptRegistry(registry.store, label_ttl_s=60)
        assert slow.get("p").version == 1
        # the other handle moves the label; this handle sees it once its cache is cleared
        theirs.register("p", PromptVersion("b"), set_active=True)
        assert slow.get("p").version == 1
        clear_prompt_cache(store=registry.store)
        assert slow.get("p").version == 2 and mine.get("p").version == 2
    # closing a handle drops its components: nothing keyed by URL stays behind
    assert other.peek(PromptRegistry) is None


def test_a_closed_handle_is_refused(registry: PromptRegistry) -> None:
    with Store(registry.store.url) as other:
        pass
    with pytest.raises(Exception, match="closed"):
        PromptRegistry(other)


def test_a_forked_child_keeps_the_resolved_versions(registry: PromptRegistry) -> None:
    registry.register("p", PromptVersion("a"), set_active=True)
    assert registry.get("p:1").version == 1
    pid = os.fork()
    if pid == 0:  # the child: its own connections, the parent's cached versions
        code = 1
        try:
            child = prompt_registry()
            cached = child.get("p:1") is registry.get("p:1")
            code = 0 if cached and child.get("p").version == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_explicit_handle_is_used_not_the_default(
    registry: PromptRegistry, tmp_path: Path
) -> None:
    with Store(f"sqlite:///{tmp_path / 'other.db'}") as other:
        PromptRegistry(other).register("only-there", PromptVersion("x {{ y }}"))
        assert get_prompt("only-there", store=other).version == 1
        with pytest.raises(NotFoundError, match="has no prompts yet"):
            get_prompt("only-there")  # the default handle is the test's own store
        Experiments(other).create("e", "only-there", {"a": 1}, salt="s")
        assert assign("e", "unit", store=other) == "a"
        with pytest.raises(NotFoundError, match="experiment"):
            assign("e", "unit")
