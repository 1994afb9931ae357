"""Typed errors: install hints name the extra that really installs the module (checked against pyproject)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import tomllib

from embedlab.errors import (
    PROVIDERS,
    DataError,
    MissingDependencyError,
    UnknownNameError,
    installed,
    require,
    require_all,
)

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _closure(extras: dict[str, list[str]], extra: str) -> set[str]:
    """Package names an extra installs, following `embedlab[a,b]` references."""
    names: set[str] = set()
    for requirement in extras[extra]:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        if name == "embedlab":
            for inner in re.search(r"\[(.*)\]", requirement).group(1).split(","):
                names |= _closure(extras, inner.strip())
        else:
            names.add(name)
    return names


@pytest.mark.parametrize("module", sorted(PROVIDERS))
def test_every_install_hint_names_an_extra_that_installs_the_package(module):
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    package, extra = PROVIDERS[module]
    assert extra in extras, f"{module}: no extra [{extra}] in pyproject"
    assert package in _closure(extras, extra), f"{module}: [{extra}] does not install {package}"


def test_the_report_extra_does_not_pull_torch():
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert not {"torch", "sentence-transformers"} & _closure(extras, "report")


def test_a_missing_module_names_the_install_command(monkeypatch):
    monkeypatch.setitem(PROVIDERS, "no_such_module_xyz", ("no-such-package", "report"))
    with pytest.raises(MissingDependencyError, match=r"pip install 'embedlab\[report\]'") as caught:
        require("no_such_module_xyz", "testing hints")
    assert "testing hints needs 'no-such-package'" in str(caught.value)


def test_data_error_names_file_line_field_and_hint():
    error = DataError("missing", path="d/x.jsonl", line=3, field="query", hint="add it")
    assert str(error) == "d/x.jsonl:3: field 'query': missing (add it)"


def test_unknown_name_suggests_the_closest():
    error = UnknownNameError("metric", "ndgc", ["ndcg", "map", "mrr"])
    assert "did you mean 'ndcg'?" in str(error) and "known: map, mrr, ndcg" in str(error)


def test_the_all_extra_installs_every_extra_a_user_runs():
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    tools = {"test", "bench", "ray-client", "all"}  # the developers' tools; Ray Client for remote clusters only
    everything = _closure(extras, "all")
    for extra in set(extras) - tools:
        assert _closure(extras, extra) <= everything, f"[all] does not install [{extra}]"
    assert not {"pytest", "mteb"} & everything


def test_missing_modules_are_checked_together_before_any_import(monkeypatch):
    monkeypatch.setitem(PROVIDERS, "no_such_module_a", ("no-such-a", "bm25"))
    monkeypatch.setitem(PROVIDERS, "no_such_module_b", ("no-such-b", "api"))
    with pytest.raises(MissingDependencyError) as caught:
        require_all([("json", "reading"), ("no_such_module_a", "-m bm25"), ("no_such_module_b", "-m openai:x"),
                     ("no_such_module_a", "-m bm25")])
    assert str(caught.value) == ("-m bm25 needs 'no-such-a'; -m openai:x needs 'no-such-b', which are not installed: "
                                 "pip install 'embedlab[bm25,api]' (or every extra at once: pip install 'embedlab[all]')")
    require_all([("json", "reading")])  # installed: nothing to say


def test_a_module_made_unimportable_counts_as_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "json", None)
    assert not installed("json")
    assert installed("email.utils")


def test_a_commands_own_extra_is_named_for_all_its_packages(monkeypatch):
    monkeypatch.setitem(sys.modules, "accelerate", None)
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingDependencyError) as caught:
        require_all([("accelerate", "embedlab finetune"), ("datasets", "embedlab finetune")], extra="finetune")
    assert str(caught.value) == ("embedlab finetune needs 'accelerate', 'datasets', which are not installed: "
                                 "pip install 'embedlab[finetune]'")
