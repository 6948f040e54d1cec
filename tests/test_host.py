"""The plugin host: discovery through entry points, clear errors for broken or conflicting plugins."""

from __future__ import annotations

import sys
import textwrap

import pytest

import guidegen
from guidegen import GenerationRequest, Host, PluginError, hookimpl
from guidegen.errors import ConstraintError

BUILTINS = {"constraints", "cfg", "prompt_lookup", "fast_forward", "repetition"}


def test_builtin_plugins_come_from_entry_points():
    info = {row["name"]: row for row in Host().plugin_info()}
    assert BUILTINS <= set(info)
    for name in BUILTINS:
        assert info[name]["source"] == "builtin"
        assert info[name]["distribution"] == "guidegen"
    assert info["constraints"]["hooks"] == ["guidegen_constraint_compilers"]
    assert "guidegen_draft_proposers" in info["prompt_lookup"]["hooks"]
    assert "guidegen_monitors" in info["repetition"]["hooks"]


def test_builtin_constraint_kinds():
    assert {"regex", "schema"} <= set(Host().compilers())


class _Compiler:
    kind = "regex"

    def compile(self, spec, vocab, **options):  # pragma: no cover - never reached
        raise AssertionError


class _SecondRegexPlugin:
    @hookimpl
    def guidegen_constraint_compilers(self):
        return [_Compiler()]


def test_conflicting_constraint_kind_names_both_plugins():
    host = Host([_SecondRegexPlugin()])
    with pytest.raises(PluginError, match="constraint kind 'regex' is already served") as info:
        host.compilers()
    assert "_SecondRegexPlugin" in str(info.value) and "'constraints'" in str(info.value)


class _DuplicateOption:
    @hookimpl
    def guidegen_options(self):
        return {"prompt_lookup": "mine too"}


def test_conflicting_option_names_both_plugins():
    host = Host([_DuplicateOption()])
    with pytest.raises(PluginError, match="option 'prompt_lookup' is already declared") as info:
        host.options()
    assert "_DuplicateOption" in str(info.value) and "plugin 'prompt_lookup'" in str(info.value)


class _UnknownHook:
    @hookimpl
    def guidegen_no_such_hook(self):
        return 1


def test_plugin_with_unknown_hook_is_rejected_by_name():
    with pytest.raises(PluginError, match="_UnknownHook.*guidegen_no_such_hook"):
        Host([_UnknownHook()])


def test_duplicate_plugin_name():
    host = Host(entry_points=False)
    host.register(_DuplicateOption(), "mine")
    with pytest.raises(PluginError, match="'mine'.*already registered"):
        host.register(_UnknownHook(), "mine")


class _Raises:
    @hookimpl
    def guidegen_monitors(self, request):
        raise RuntimeError("boom")


def test_plugin_failure_names_the_plugin():
    host = Host([_Raises()], entry_points=False)
    with pytest.raises(PluginError, match=r"plugin '_Raises': guidegen_monitors raised RuntimeError\('boom'\)"):
        host.monitors(GenerationRequest("hi"), model=None)


class _WrongType:
    @hookimpl
    def guidegen_logits_processors(self):
        return ["not a processor"]


def test_plugin_returning_wrong_type_names_the_plugin():
    host = Host([_WrongType()], entry_points=False)
    with pytest.raises(PluginError, match="_WrongType.*expected"):
        host.processors(GenerationRequest("hi"), model=None)


def test_unknown_request_option_is_an_error():
    host = Host()
    with pytest.raises(PluginError, match="promt_lookup.*known options:.*prompt_lookup"):
        host.validate(GenerationRequest("hi", options={"promt_lookup": True}))


def test_unknown_constraint_kind_is_an_error():
    with pytest.raises(ConstraintError, match="kind 'grammarz'.*known kinds"):
        Host().validate(GenerationRequest("hi", constraint={"grammarz": "x"}))


def test_broken_entry_point_names_the_plugin(tmp_path, monkeypatch):
    """A distribution whose entry point cannot be imported fails loudly, naming it."""
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[guidegen]\nbroken = broken_plugin_module\n")
    (tmp_path / "broken_plugin_module.py").write_text("raise ImportError('missing dependency xyz')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match=r"plugin 'broken'.*broken-plugin.*missing dependency xyz"):
        Host()


def test_entry_point_name_clash_between_distributions(tmp_path, monkeypatch):
    dist = tmp_path / "impostor-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: impostor\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[guidegen]\ncfg = impostor_module\n")
    (tmp_path / "impostor_module.py").write_text(textwrap.dedent("""
        import guidegen
        @guidegen.hookimpl
        def guidegen_options():
            return {}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="plugin 'cfg'.*claimed by both"):
        Host()


def test_request_validation_messages():
    with pytest.raises(ValueError, match="max_tokens"):
        GenerationRequest("hi", max_tokens=0)
    with pytest.raises(ValueError, match="top_p"):
        guidegen.SamplingParams(temperature=1.0, top_p=0)
    with pytest.raises(ValueError, match="at most one of schema=, regex= and grammar=, not schema and regex"):
        guidegen.make_request("hi", schema={}, regex="a")


def test_public_api_is_importable_without_side_effects():
    assert "generate" in guidegen.__all__
    assert sys.modules["guidegen"] is guidegen
