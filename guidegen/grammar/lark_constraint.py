"""The ``grammar`` constraint kind: a Lark grammar's text → a pushdown constraint."""

from __future__ import annotations

from typing import Any

from ..automata.pushdown import Grammar, PushdownConstraint
from ..errors import ConstraintError, GrammarError
from ..vocab import Vocabulary
from .lark import lower_lark

__all__ = ["LarkCompiler"]


class LarkCompiler:
    """``grammar=...`` requests: the output must derive from the grammar's start rule.

    Options: ``start`` (the start rule's name, default ``"start"``). :meth:`PushdownConstraint.parse`
    returns the text unchanged.

    Example::

        guidegen.generate("2+3*4 = ?", grammar='start: NUMBER (("+"|"*") NUMBER)*\\n%import common.NUMBER')
    """

    kind = "grammar"
    _OPTIONS = frozenset({"start"})

    def compile(self, spec: Any, vocab: Vocabulary, **options: Any) -> PushdownConstraint:
        unknown = set(options) - self._OPTIONS
        if unknown:
            raise ConstraintError(f"unknown grammar option(s) {sorted(unknown)}; supported: {sorted(self._OPTIONS)}")
        if not isinstance(spec, str):
            raise GrammarError(f"a grammar constraint needs the Lark grammar's text, got {type(spec).__name__}")
        lowered = lower_lark(spec, str(options.get("start", "start")))
        grammar = Grammar.from_regexes(lowered.rules, lowered.names, vocab_fingerprint=vocab.fingerprint)
        return PushdownConstraint(grammar, vocab)
