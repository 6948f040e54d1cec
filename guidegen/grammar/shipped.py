"""The Lark grammars shipped with guidegen (the ``grammars/`` folder, installed as package data)."""

from __future__ import annotations

from importlib import resources

from ..errors import GrammarError

__all__ = ["shipped_grammar", "shipped_grammar_names"]

_PACKAGE = "guidegen_grammars"


def shipped_grammar_names() -> list[str]:
    """The names :func:`shipped_grammar` knows, sorted (``json``, ``sql``, ...)."""
    return sorted(f.name[: -len(".lark")] for f in resources.files(_PACKAGE).iterdir() if f.name.endswith(".lark"))


def shipped_grammar(name: str) -> str:
    """The text of the shipped grammar ``name``, for ``generate(grammar=...)``.

    >>> "SELECT" in shipped_grammar("sql")
    True
    """
    names = shipped_grammar_names()
    if name not in names:
        raise GrammarError(f"no shipped grammar named {name!r}; shipped: {', '.join(names)}")
    return resources.files(_PACKAGE).joinpath(f"{name}.lark").read_text(encoding="utf-8")
