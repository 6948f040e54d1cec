"""The ``grammar`` constraint kind: a Lark grammar's text → a pushdown constraint, optionally with
rules defined by a JSON Schema or a regex (composition)."""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..automata.dfa import DFA
from ..automata.pushdown import Grammar, PushdownConstraint, call_marker
from ..errors import ConstraintError, GrammarError
from ..vocab import Vocabulary
from .json_schema import schema_from_python, schema_to_rules
from .lark import lower_lark

__all__ = ["LarkCompiler"]

_RULE_NAME = re.compile(r"[a-z_][a-z_0-9]*")
_MARKER = re.compile("[\ud800-\udfff]")


def _placeholder(k: int) -> str:
    """A literal no grammar writes: private-use characters, two of them, so that it stays a string."""
    return "\U0010fffe" + chr(0x100000 + k) + "\U0010fffe"


def _shift_markers(rule: str | DFA | None, offset: int) -> str | DFA | None:
    if not isinstance(rule, str):  # no text, or an automaton, which calls nothing
        return rule
    return _MARKER.sub(lambda m: call_marker(ord(m.group()) - 0xD800 + offset), rule)


class LarkCompiler:
    """``grammar=...`` requests: the output must derive from the grammar's start rule.

    Options:

    - ``start``: the start rule's name (default ``"start"``);
    - ``schemas``: ``{rule name: JSON Schema}`` (or pydantic model / type hint): rules the grammar
      uses but does not define, each deriving exactly the compact JSON texts valid under its schema
      (recursive schemas included, with no depth limit);
    - ``regexes``: ``{rule name: regex}``: rules deriving exactly the texts a regex fully matches.

    :meth:`PushdownConstraint.parse` returns the text unchanged.

    Example::

        guidegen.generate("Call get_weather for Paris.", grammar='start: "<call>" args "</call>"',
                          constraint_options={"schemas": {"args": {"type": "object", "properties":
                              {"city": {"type": "string"}}, "required": ["city"]}}})
    """

    kind = "grammar"
    _OPTIONS = frozenset({"start", "schemas", "regexes"})

    def compile(self, spec: Any, vocab: Vocabulary, **options: Any) -> PushdownConstraint:
        unknown = set(options) - self._OPTIONS
        if unknown:
            raise ConstraintError(f"unknown grammar option(s) {sorted(unknown)}; supported: {sorted(self._OPTIONS)}")
        if not isinstance(spec, str):
            raise GrammarError(f"a grammar constraint needs the Lark grammar's text, got {type(spec).__name__}")
        externals = self._externals(options.get("schemas") or {}, options.get("regexes") or {})
        definitions = "".join(f'\n{name}: "{_placeholder(k)}"' for k, (name, _) in enumerate(externals))
        lowered = lower_lark(spec + definitions, str(options.get("start", "start")))
        rules: list[str | DFA | None] = list(lowered.rules)
        names = list(lowered.names)
        for k, (name, sub) in enumerate(externals):
            offset = len(rules)
            here = re.escape(_placeholder(k))
            rules = [re.sub(here, call_marker(offset), r) if isinstance(r, str) else r for r in rules]
            rules += [_shift_markers(r, offset) for r in sub]
            names += [name] + [f"{name} (part {i})" for i in range(1, len(sub))]
        grammar = Grammar.from_regexes(rules, names, vocab_fingerprint=vocab.fingerprint,
                                       compiled=dict(zip(lowered.rules, lowered.dfas)),
                                       implicit_end=lowered.implicit_end)
        return PushdownConstraint(grammar, vocab)

    @staticmethod
    def _externals(schemas: Mapping[str, Any], regexes: Mapping[str, str]) -> list[tuple[str, list[str | DFA | None]]]:
        """``[(rule name, its rules)]`` for the rules defined outside the grammar."""
        both = set(schemas) & set(regexes)
        if both:
            raise GrammarError(f"rule(s) {sorted(both)} defined both by a schema and by a regex")
        out: list[tuple[str, list[str | DFA | None]]] = []
        for name, source in [*schemas.items(), *regexes.items()]:
            if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
                raise GrammarError(f"{name!r} is not a Lark rule name (lower-case letters, digits and _)")
            if name in regexes:
                if not isinstance(source, str) or _MARKER.search(source):
                    raise GrammarError(f"the regex of rule {name!r} must be a str without lone surrogates")
                out.append((name, [source]))
            else:
                out.append((name, schema_to_rules(schema_from_python(source))))
        return out
