"""Exceptions raised by guidegen. Every error names the thing that was wrong."""

from __future__ import annotations


class GuidegenError(Exception):
    """Base class of every error guidegen raises on purpose."""


class PluginError(GuidegenError):
    """A plugin failed to load, conflicts with another, or broke a hook contract."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin!r}: {message}")
        self.plugin = plugin


class ConstraintError(GuidegenError):
    """A constraint specification could not be compiled."""


class RegexError(ConstraintError):
    """A regular expression is malformed or uses a feature that has no finite automaton."""


class GrammarError(ConstraintError):
    """A grammar is malformed, generates no text, or is left-recursive where it cannot be rewritten."""


class UnsupportedSchemaError(ConstraintError):
    """A JSON Schema uses a keyword the engine cannot enforce exactly.

    ``pointer`` is the JSON pointer of the schema location, ``keyword`` the offending keyword.
    """

    def __init__(self, keyword: str, pointer: str, detail: str = "") -> None:
        where = pointer or "#"
        msg = f"unsupported JSON Schema keyword {keyword!r} at {where}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg + " (pass lenient=True to over-approximate it with a warning)")
        self.keyword = keyword
        self.pointer = where


class SchemaError(ConstraintError):
    """A JSON Schema is malformed (not a JSON Schema at all, or self-contradictory)."""


class VocabularyError(GuidegenError):
    """A tokenizer's vocabulary cannot be turned into byte strings (or is empty)."""


class ModelLoadError(GuidegenError):
    """A model or tokenizer could not be loaded."""


class AssetError(GuidegenError):
    """An offline asset (vocabulary, default model) is missing: run `make install`."""
