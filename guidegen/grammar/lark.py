"""Lark grammar text → the rule regexes of a pushdown grammar (:mod:`guidegen.automata.pushdown`).

lark itself reads the grammar (syntax, ``%import``, templates, terminal definitions), so a grammar
means here what it means to Lark. What we build is its language, scannerless, as Lark's Earley
parser sees it with the ``dynamic_complete`` lexer: a terminal stands for every string its pattern
matches (a lazy ``.*?`` included: ``/".*?"/`` matches ``"a"b"`` too), and ``%ignore`` terminals may
appear between any two terminals and around the whole text. (Lark's plain ``dynamic`` lexer tries
only the one match ``re`` finds first, so it rejects some texts the grammar derives, e.g. ``A A``
with ``A: /[a-z]+/`` on ``"ab"``.) Tree-shaping syntax (``?rule``, ``!rule``, ``_rule``, aliases)
and the priorities of rules and terminals choose which parse Lark builds, never which texts parse,
so they are ignored. Two readings follow a lexer instead, where the scannerless one is not what
grammars mean: common.lark's ``ESCAPED_STRING`` ends at its first unescaped quote, and an ignored
line comment (``/#[^\n]*/``) runs to its line break when no token starts with a line break.

The engine runs each rule as one DFA, top-down, and a call costs a push and a pop at run time, so:

- a rule's regex holds calls (:func:`~guidegen.automata.pushdown.call_marker`) only to rules that
  must stay calls: every rule outside a recursive cycle is inlined, and so is a rule of a cycle that
  is used once or is small, as long as every cycle keeps one call; a rule (or a terminal) that would
  make a DFA too large stays a call too (see :class:`_Calls`);
- left recursion (``?sum: sum "+" product | product``) would make a top-down engine loop, so it is
  rewritten into repetition (``sum: product ("+" product)*``); indirect left recursion is first
  made direct by substitution (Paull's algorithm), in an order that substitutes only on cycles;
- no call matches the empty string: a rule's empty string is handled where the rule is used. That
  keeps left recursion visible (a nullable call would hide it) and puts exactly one ``(?:IGNORE)*``
  between two terminals whatever is left out between them.

Blocks by indentation: a grammar that declares ``_INDENT`` and ``_DEDENT`` (``%declare``, as
Lark's ``python.lark`` does for its ``Indenter`` post-lexer) is read as that post-lexer reads it,
with the block depth carried by copies of the rules (see :class:`_Indentation`): every line of a
block is indented by four spaces a level, exactly, blocks nest at most 16 deep, and inside
brackets line breaks are ignored.

Not supported, each raising :class:`~guidegen.errors.GrammarError` that names the symbol and its
line: other ``%declare`` terminals (produced by a post-lexer: a grammar constraint has nothing that
could produce them), terminals whose pattern has no finite automaton (lookaround, backreferences,
``\b``, anchors, the Unicode properties of the ``regex`` module) or matches the empty string, and
rules that derive no finite text.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, NamedTuple, Union

from lark.exceptions import LarkError, UnexpectedInput
from lark.grammar import NonTerminal, Symbol, Terminal
from lark.lexer import PatternStr, TerminalDef
from lark.load_grammar import (
    ApplyTemplates,
    GrammarBuilder,
    PrepareAnonTerminals,
    PrepareLiterals,
    TerminalTreeToPattern,
    ValidateSymbols,
)
from lark.tree import Tree

from ..automata.codepoints import MAX_CODE_POINT, CodePoints, complement, subtract, union
from ..automata.constraint import cached_compile_regex
from ..automata.dfa import DFA
from ..automata.pushdown import call_marker
from ..automata.regex import compile_regex, hashable_item, item_code_points
from ..errors import GrammarError, RegexError

try:  # Python 3.11+
    import re._constants as _sre
    import re._parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["LarkRules", "lark_to_rules", "lower_lark"]

_INLINE_BUDGET = 48
"""Nodes a rule of a recursive cycle may add to the regexes by being inlined at all its uses."""
_COPY_BUDGET = 4000
"""Nodes a rule outside cycles may add to the regexes by being inlined at all its uses."""
_MAX_STATES = 10_000
"""DFA states (before minimization) a rule's regex may need before inlined rules become calls."""

_DECLARED = (
    "terminals declared with %declare are produced by a post-lexer, which a grammar constraint cannot "
    "produce; not supported, but for _INDENT and _DEDENT (blocks by indentation, read as Lark's Indenter does)"
)

# precedence of an emitted regex: what it can be put next to without a group
_ALT, _SEQ, _ATOM = 0, 1, 2


# --------------------------------------------------------------------------------------------------
# The language of a grammar fragment, without its empty string: that is kept beside it as a flag.


@dataclass(frozen=True)
class _Term:
    regex: str  # never matches the empty string
    prec: int


@dataclass(frozen=True)
class _Ref:
    rule: str  # the rule's non-empty strings


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Expr, ...]


@dataclass(frozen=True)
class _Alt:
    options: tuple[_Expr, ...]


@dataclass(frozen=True)
class _Repeat:
    item: _Expr
    min: int
    max: int | None


_Expr = Union[_Term, _Ref, _Seq, _Alt, _Repeat]


class _Lang(NamedTuple):
    """A fragment's language: its non-empty strings (None: there are none), whether it has ε, and
    how its non-empty strings end (one of the ``_ENDS_*``: what may separate them from the next
    token depends on it where blocks are made by indentation)."""

    expr: _Expr | None
    nullable: bool
    ends: int = 0


_ENDS_TOKEN, _ENDS_LINE, _ENDS_INDENT, _ENDS_MIXED = 0, 1, 2, 3
"""A fragment's strings end with a token (ignored text may follow), with the line break of an
indentation grammar (the next line's indentation follows), with the indentation opening a block
(nothing follows but the block), or some one way and some another."""


def _either(a: int, b: int) -> int:
    return a if a == b else _ENDS_MIXED


_EPSILON = _Lang(None, True)
_NOTHING = _Lang(None, False)


def _seq(*items: _Expr | None) -> _Expr:
    flat: list[_Expr] = []
    for item in items:
        for i in item.items if isinstance(item, _Seq) else () if item is None else (item,):
            if isinstance(i, _Repeat):  # y y{m,n} → y{m+1,n+1}: "x ("," x)*" with ignores copies x once
                unit = i.item.items if isinstance(i.item, _Seq) else (i.item,)
                if tuple(flat[len(flat) - len(unit):]) == unit:
                    del flat[len(flat) - len(unit):]
                    i = _Repeat(i.item, i.min + 1, None if i.max is None else i.max + 1)
            flat.append(i)
    return flat[0] if len(flat) == 1 else _Seq(tuple(flat))


def _alt(options: list[_Expr]) -> _Expr:
    unique: list[_Expr] = []
    for option in options:
        for o in option.options if isinstance(option, _Alt) else (option,):
            if o not in unique:
                unique.append(o)
    return unique[0] if len(unique) == 1 else _Alt(tuple(unique))


def _opt(expr: _Expr) -> _Expr:
    if isinstance(expr, _Repeat) and expr.min == 1:
        return _Repeat(expr.item, 0, expr.max)
    return _Repeat(expr, 0, 1)


def _nullable(expr: _Expr) -> bool:
    if isinstance(expr, _Seq):
        return all(_nullable(i) for i in expr.items)
    if isinstance(expr, _Alt):
        return any(_nullable(o) for o in expr.options)
    if isinstance(expr, _Repeat):
        return expr.min == 0 or _nullable(expr.item)
    return False


@dataclass(frozen=True)
class _Indentation:
    """How a grammar that declares ``_INDENT`` and ``_DEDENT`` (Lark's ``Indenter`` convention, as
    in ``python.lark``) makes blocks, for :class:`_Lowering`.

    Lark's post-lexer reads the line-break terminal (the one before ``_INDENT``) with the next
    line's indentation and emits ``_INDENT`` where that indentation grows and ``_DEDENT`` where it
    shrinks back to an enclosing block's, and drops line breaks inside brackets. A context-free
    grammar cannot compare indentations, so the depth becomes part of the rules: a rule whose text
    holds line breaks outside brackets has one copy per block depth, and every line of a block at
    depth ``d`` starts with ``d`` times :attr:`unit`, exactly (Python accepts any consistent
    indentation; this reads the common one, four spaces, and so generates only that). Blocks nest
    at most :attr:`max_depth` deep.
    """

    newline: str  # the line-break terminal (python.lark's _NEWLINE)
    line_breaks: _Term  # its text without the next line's indentation: a line break, blank lines, comments
    in_brackets: _Expr  # what may separate two tokens inside brackets: the ignored text or a line break
    opening: frozenset[str]  # the bracket terminals
    closing: frozenset[str]
    depends_on_depth: frozenset[str]  # the rules whose text holds line breaks outside brackets
    unit: str = "    "
    max_depth: int = 16


INDENT, DEDENT = "_INDENT", "_DEDENT"


class _Lowering:
    """Lark rule trees → :class:`_Lang`, given which rules have ε and which have non-empty strings.

    With an :class:`_Indentation`, a rule is lowered in a context (its block depth, and whether it
    stands inside brackets), and a reference names the copy of the rule for its context
    (:meth:`copy`). :attr:`contexts` collects the copies (the rules, without indentation)
    referenced so far."""

    def __init__(self, ignore: _Expr | None, indentation: _Indentation | None = None) -> None:
        self.ignore = ignore  # (?:IGNORE)*, or None when nothing is ignored
        self.indentation = indentation
        self.nonempty: dict[str, bool] = {}
        self.nullable: dict[str, bool] = {}
        self.ends: dict[str, int] = {}
        self.contexts: dict[str, tuple[str, int, bool]] = {}  # copy → (rule, depth, in brackets)
        self.referenced: set[str] = set()  # the copies referenced since the caller last emptied it
        self.depth = 0
        self.brackets = 0

    def copy(self, name: str) -> str:
        """The copy of rule ``name`` for the current context (the rule itself without indentation)."""
        if self.indentation is None:
            self.contexts.setdefault(name, (name, 0, False))
            self.referenced.add(name)
            return name
        dependent = name in self.indentation.depends_on_depth
        if self.brackets and dependent:
            raise ValueError(f"rule {name!r} holds line breaks, and is used inside brackets")
        key = f"{name}@brackets" if self.brackets else f"{name}@{self.depth}" if dependent and self.depth else name
        self.contexts.setdefault(key, (name, self.depth if dependent else 0, bool(self.brackets)))
        self.referenced.add(key)
        return key

    def lower_copy(self, key: str, trees: dict[str, Tree]) -> _Lang:
        name, self.depth, in_brackets = self.contexts[key]
        self.brackets = int(in_brackets)
        return self.lower(trees[name])

    def lower(self, node: Tree | NonTerminal | Terminal) -> _Lang:
        if isinstance(node, Terminal):
            if self.indentation is not None and node.name == self.indentation.newline:
                if self.brackets:
                    raise ValueError(f"the line-break terminal {node.name} stands inside brackets")
                return _Lang(self.indentation.line_breaks, False, _ENDS_LINE)
            if node.name in (INDENT, DEDENT):
                raise ValueError(f"{node.name} must stand in a sequence, {INDENT} right after a line break")
            return _Lang(_Ref(node.name), False)
        if isinstance(node, NonTerminal):
            key = self.copy(node.name)
            return _Lang(_Ref(key) if self.nonempty.get(key) else None, self.nullable.get(key, False),
                         self.ends.get(key, _ENDS_TOKEN))
        if node.data == "expansions":
            return self._alternatives([self.lower(c) for c in node.children])
        if node.data == "expansion":
            return self._sequence(node.children)
        if node.data == "alias":
            return self.lower(node.children[0])
        if node.data == "maybe":
            return self._repeat(self.lower(node.children[0]), 0, 1)
        assert node.data == "expr", node.data
        item, op, *bounds = node.children
        if op == "?":
            return self._repeat(self.lower(item), 0, 1)
        if op == "*":
            return self._repeat(self.lower(item), 0, None)
        if op == "+":
            return self._repeat(self.lower(item), 1, None)
        low, high = int(bounds[0]), int(bounds[-1])
        if high < low:
            raise ValueError(f"bad range ~ {low}..{high}")
        return self._repeat(self.lower(item), low, high)

    @staticmethod
    def _alternatives(options: list[_Lang]) -> _Lang:
        with_text = [o for o in options if o.expr is not None]
        ends = with_text[0].ends if with_text else _ENDS_TOKEN
        for o in with_text[1:]:
            ends = _either(ends, o.ends)
        return _Lang(_alt([o.expr for o in with_text]) if with_text else None, any(o.nullable for o in options),
                     ends)

    def _sequence(self, items: list) -> _Lang:
        """A rule expansion's items one after the other. With indentation, a block (``_INDENT``
        to ``_DEDENT``) is one level deeper, and the inside of brackets is lowered as such."""
        if self.indentation is None:
            acc = _EPSILON
            for item in items:
                acc = self._then(acc, self.lower(item))
            return acc
        indentation = self.indentation
        depth, brackets = self.depth, self.brackets
        try:
            acc = _EPSILON
            for item in items:
                name = item.name if isinstance(item, Terminal) else None
                if name == INDENT:
                    if self.depth >= indentation.max_depth:
                        return _NOTHING  # blocks nest no deeper
                    self.depth += 1
                    if acc.expr is not None:  # (it may have no strings yet, early in the fixpoint)
                        acc = _Lang(_seq(acc.expr, _Term(indentation.unit * self.depth, _SEQ)), False, _ENDS_INDENT)
                    continue
                if name == DEDENT:
                    if self.depth == depth:
                        raise ValueError(f"{DEDENT} without an {INDENT} before it in the sequence")
                    self.depth -= 1
                    continue
                acc = self._then(acc, self.lower(item))
                if name in indentation.opening:
                    self.brackets += 1
                elif name in indentation.closing:
                    if self.brackets == brackets:
                        raise ValueError(f"a closing bracket ({name}) without its opening one in the sequence")
                    self.brackets -= 1
            if (self.depth, self.brackets) != (depth, brackets):
                raise ValueError(f"a sequence opens a block or a bracket that it does not close")
            return acc
        finally:
            self.depth, self.brackets = depth, brackets

    def _between(self, left: _Lang) -> _Expr | None:
        """What separates a string of ``left`` from the next token, in the current context."""
        if left.ends == _ENDS_TOKEN:
            return self.indentation.in_brackets if self.brackets and self.indentation else self.ignore
        if left.ends == _ENDS_LINE:  # the next line, in the current block
            return _Term(self.indentation.unit * self.depth, _SEQ) if self.depth else None
        if left.ends == _ENDS_INDENT:
            return None
        raise ValueError("some of its texts end with a line break and some do not, so what may follow them "
                         "(indentation or ignored text) is not one thing")

    def _then(self, acc: _Lang, part: _Lang) -> _Lang:
        """``acc`` followed by ``part``."""
        if (acc.expr is None and not acc.nullable) or (part.expr is None and not part.nullable):
            return _NOTHING
        if part.expr is None:
            return acc
        if acc.expr is None:
            return part
        a, b, gap = acc.expr, part.expr, self._between(acc)
        ends = _either(acc.ends, part.ends) if part.nullable else part.ends
        if not acc.nullable and not part.nullable:
            return _Lang(_seq(a, gap, b), False, ends)
        if not acc.nullable:
            return _Lang(_seq(a, _opt(_seq(gap, b))), False, ends)
        if not part.nullable:
            return _Lang(_seq(_opt(_seq(a, gap)), b), False, ends)
        return _Lang(_alt([_seq(a, _opt(_seq(gap, b))), b]), True, ends)

    def _repeat(self, inner: _Lang, low: int, high: int | None) -> _Lang:
        if inner.expr is None or high == 0:
            return _EPSILON if inner.nullable or low == 0 else _NOTHING
        x = inner.expr
        nullable = low == 0 or inner.nullable
        if high == 1:
            return _Lang(x, nullable, inner.ends)
        gap = self._between(inner)
        if gap is None:
            return _Lang(_Repeat(x, 1 if inner.nullable else max(low, 1), high), nullable, inner.ends)
        more_low = 0 if inner.nullable else max(low - 1, 0)
        return _Lang(_seq(x, _Repeat(_seq(gap, x), more_low, None if high is None else high - 1)), nullable,
                     inner.ends)


# --------------------------------------------------------------------------------------------------
# Left recursion


def _leads_to(expr: _Expr, heads: set[str]) -> bool:
    """Can a string of ``expr`` start with a call to one of ``heads`` (before any byte)?"""
    if isinstance(expr, _Ref):
        return expr.rule in heads
    if isinstance(expr, _Seq):
        return _items_lead_to(expr.items, heads)
    if isinstance(expr, _Alt):
        return any(_leads_to(o, heads) for o in expr.options)
    if isinstance(expr, _Repeat):
        return _leads_to(expr.item, heads)
    return False


def _items_lead_to(items: tuple[_Expr, ...], heads: set[str]) -> bool:
    for item in items:
        if _leads_to(item, heads):
            return True
        if not _nullable(item):
            return False
    return False


_Branch = tuple[Union[str, None], tuple[_Expr, ...]]
"""``(head, rest)``: the strings of ``head`` (a rule of the cycle; None: no call first) then ``rest``."""


def _branches(items: tuple[_Expr, ...], heads: set[str]) -> list[_Branch]:
    """The sequence ``items`` as a union of branches, split open only as far as needed to bring
    every call to ``heads`` that can come first to the front."""
    if not items:
        return [(None, ())]
    first, rest = items[0], items[1:]
    if not _items_lead_to(items, heads):
        return [(None, items)]
    if isinstance(first, _Ref):
        return [(first.rule, rest)]
    if isinstance(first, _Seq):
        return _branches(first.items + rest, heads)
    if isinstance(first, _Alt):
        return [b for o in first.options for b in _branches((o,) + rest, heads)]
    assert isinstance(first, _Repeat)
    if first.min == 0:
        more = _Repeat(first.item, 1, first.max)
        return _branches(rest, heads) + _branches((more,) + rest, heads)
    tail = None if first.max is None else first.max - 1
    again = _Repeat(first.item, first.min - 1, tail) if tail != 0 else None
    return _branches((first.item,) + ((again,) if again else ()) + rest, heads)


def _merge(branches: list[_Branch]) -> list[_Branch]:
    """One branch per head: the rests of a head's branches become one alternation, so that each
    substitution copies a rule's rests once per head rather than once per branch."""
    rests: dict[str | None, list[tuple[_Expr, ...]]] = {}
    for head, rest in branches:
        rests.setdefault(head, []).append(rest)
    merged: list[_Branch] = []
    for head, group in rests.items():
        if len(group) == 1:
            merged.append((head, group[0]))
            continue
        options = [_seq(*r) for r in group if r]
        if not options:
            merged.append((head, ()))
            continue
        either = _alt(options)
        merged.append((head, (_opt(either) if len(options) < len(group) else either,)))
    return merged


def _from_branches(branches: list[_Branch]) -> _Expr:
    return _alt([_seq(_Ref(h) if h else None, *rest) for h, rest in branches])


def _left_corner_order(cycle: list[str], rules: dict[str, _Expr]) -> list[str]:
    """The rules of one cycle, each before the rules its strings can start with where possible, so
    that Paull's algorithm substitutes only along left-recursive cycles."""
    heads = set(cycle)
    corners = {r: [h for h, _ in _branches((rules[r],), heads) if h is not None and h != r] for r in cycle}
    seen: set[str] = set()
    post: list[str] = []
    for root in cycle:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(corners[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next((c for c in it if c not in seen), None)
            if nxt is None:
                post.append(node)
                stack.pop()
            else:
                seen.add(nxt)
                stack.append((nxt, iter(corners[nxt])))
    return post[::-1]


def _remove_left_recursion(cycle: list[str], rules: dict[str, _Expr]) -> None:
    """Rewrite the rules of one cycle in place so that no call can come first in its own rule."""
    heads = set(cycle)
    if not any(_leads_to(rules[r], heads) for r in cycle):
        return
    order = _left_corner_order(cycle, rules)
    done: dict[str, list[_Branch]] = {}
    for name in order:
        branches = _merge(_branches((rules[name],), heads))
        for earlier, earlier_branches in done.items():  # in processing order, as Paull's needs
            substituted: list[_Branch] = []
            for h, rest in branches:
                if h == earlier:
                    substituted.extend((h2, r2 + rest) for h2, r2 in earlier_branches)
                else:
                    substituted.append((h, rest))
            branches = _merge(substituted)
        loops = [rest for h, rest in branches if h == name and rest]
        exits = [(h, rest) for h, rest in branches if h != name]
        assert exits, f"{name} derives text, so some branch does not start with it"
        if loops:
            star = _Repeat(_alt([_seq(*rest) for rest in loops]), 0, None)
            exits = [(h, rest + (star,)) for h, rest in exits]
        done[name] = exits
        rules[name] = _from_branches(exits)


# --------------------------------------------------------------------------------------------------
# Cycles, inlining, emission


def _refs(expr: _Expr, counts: dict[str, int]) -> dict[str, int]:
    if isinstance(expr, _Ref):
        counts[expr.rule] = counts.get(expr.rule, 0) + 1
    elif isinstance(expr, _Seq):
        for i in expr.items:
            _refs(i, counts)
    elif isinstance(expr, _Alt):
        for o in expr.options:
            _refs(o, counts)
    elif isinstance(expr, _Repeat):
        _refs(expr.item, counts)
    return counts


def _size(expr: _Expr) -> int:
    """About how much regex an expression makes (a long terminal, e.g. a name regex that leaves
    out keywords, weighs what it costs to copy it)."""
    if isinstance(expr, _Seq):
        return 1 + sum(_size(i) for i in expr.items)
    if isinstance(expr, _Alt):
        return 1 + sum(_size(o) for o in expr.options)
    if isinstance(expr, _Repeat):
        return 1 + _size(expr.item)
    if isinstance(expr, _Term):
        return 1 + len(expr.regex) // 32
    return 1


def _cycles(rules: dict[str, _Expr]) -> list[list[str]]:
    """Strongly connected components of the call graph that contain a cycle (Tarjan, iterative)."""
    edges = {r: [c for c in _refs(e, {}) if c in rules] for r, e in rules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in rules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                child = edges[node][i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component, key=list(rules).index))
    return found


class _Calls:
    """Which rules stay calls (the rest is inlined), and their regexes.

    Every cycle keeps one call. Beyond that a rule of a cycle is inlined when that adds little (it
    is used once, or is small), and a rule outside cycles (terminals count as rules here) is
    inlined unless copying it everywhere it is used would blow the regexes up (a large rule used in
    many places, which substitution for left recursion multiplies). Last, a rule whose regex would
    need more than :data:`_MAX_STATES` DFA states gets the largest rule inlined into it as a call
    instead, until every regex compiles: a scannerless regex can be far larger than its text
    suggests (strings, names and comments that may overlap each other make the DFA track every
    way of reading the text at once), and a call keeps the ways apart on the engine's stacks.
    """

    def __init__(self, rules: dict[str, _Expr], root: _Expr, cyclic: set[str]) -> None:
        self.rules = rules
        self.root = root
        self.refs = {r: _refs(e, {}) for r, e in rules.items()}
        self.root_refs = _refs(root, {})
        self.parents: dict[str, dict[str, int]] = {r: {} for r in rules}
        for parent, counts in self.refs.items():
            for child, n in counts.items():
                self.parents[child][parent] = n
        self.kept = set(cyclic)
        for name in sorted(cyclic, key=lambda r: (_size(rules[r]), list(rules).index(r))):
            self.kept.discard(name)
            if self._loops_back(name) or self._cost(name, {}, {}) > _INLINE_BUDGET:
                self.kept.add(name)
        while True:
            sizes: dict[str, int] = {}
            uses: dict[str, int] = {}
            inlined = [r for r in rules if r not in self.kept]
            worst = max(inlined, key=lambda r: self._cost(r, sizes, uses), default=None)
            if worst is None or self._cost(worst, sizes, uses) <= _COPY_BUDGET:
                break
            self.kept.add(worst)

    def _loops_back(self, name: str) -> bool:
        seen: set[str] = set()
        todo = [s for s in self.refs[name] if s not in self.kept]
        while todo:
            s = todo.pop()
            if s == name:
                return True
            if s not in seen:
                seen.add(s)
                todo.extend(t for t in self.refs[s] if t not in self.kept)
        return False

    def _size(self, name: str, sizes: dict[str, int]) -> int:
        """Size of the rule's regex, with what is not a call inlined."""
        if name not in sizes:
            sizes[name] = _size(self.rules[name]) + sum(
                n * (self._size(s, sizes) - 1) for s, n in self.refs[name].items() if s not in self.kept
            )
        return sizes[name]

    def _cost(self, name: str, sizes: dict[str, int], uses: dict[str, int]) -> int:
        """Nodes the regexes gain by inlining ``name`` (all its copies but one)."""

        def used(r: str) -> int:  # copies of the rule's regex in all regexes
            if r not in uses:
                uses[r] = self.root_refs.get(r, 0) + sum(
                    n * (1 if p in self.kept else used(p)) for p, n in self.parents[r].items()
                )
            return uses[r]

        return (used(name) - 1) * self._size(name, sizes)

    def regexes(self, start: str) -> tuple[list[str], list[str], list[DFA]]:
        """The rule names (``start`` first, for the whole text), their regexes and their DFAs
        (each regex is compiled to check its size)."""
        while True:
            names = [start] + [r for r in self.rules if r in self.kept]
            calls = {name: k for k, name in enumerate(names[1:], start=1)}
            memo: dict[str, tuple[str, int]] = {}
            bodies = [self.root] + [self.rules[n] for n in names[1:]]
            regexes = [_emit(e, self.rules, calls, memo)[0] for e in bodies]
            split: set[str] = set()
            dfas: list[DFA] = []
            for name, body, regex in zip(names, bodies, regexes):
                try:
                    # not from the disk cache: a regex stored there by a compile with a higher state
                    # limit would pass, and the rules would depend on what ran before
                    dfas.append(cached_compile_regex(regex, call_markers=True, max_states=_MAX_STATES,
                                                     disk_cache=False))
                except RegexError as e:
                    inlined = [r for r in _refs(body, {}) if r not in self.kept]
                    if not inlined:
                        raise GrammarError(f"{name!r}: its regex is too large for a grammar constraint: {e}") from None
                    sizes: dict[str, int] = {}
                    split.add(max(inlined, key=lambda r: self._size(r, sizes)))
            if not split:
                return names, regexes, dfas
            self.kept |= split


def _emit(
    expr: _Expr, rules: dict[str, _Expr], calls: dict[str, int], memo: dict[str, tuple[str, int]]
) -> tuple[str, int]:
    """The regex of ``expr``, with calls where ``calls`` numbers a rule and other rules inlined."""
    if isinstance(expr, _Term):
        return expr.regex, expr.prec
    if isinstance(expr, _Ref):
        if expr.rule in calls:
            return call_marker(calls[expr.rule]), _ATOM
        if expr.rule not in memo:
            memo[expr.rule] = _emit(rules[expr.rule], rules, calls, memo)
        return memo[expr.rule]

    def at(e: _Expr, prec: int) -> str:
        text, own = _emit(e, rules, calls, memo)
        return text if own >= prec else f"(?:{text})"

    if isinstance(expr, _Seq):
        return "".join(at(i, _SEQ) for i in expr.items), _SEQ
    if isinstance(expr, _Alt):
        return "|".join(at(o, _ALT) for o in expr.options), _ALT
    low, high = expr.min, expr.max
    if (low, high) == (1, 1):
        return _emit(expr.item, rules, calls, memo)
    text = at(expr.item, _ATOM)
    if (low, high) == (0, 1):
        return text + "?", _SEQ
    if high is None:
        return text + ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}"), _SEQ
    return text + (f"{{{low}}}" if low == high else f"{{{low},{high}}}"), _SEQ


# --------------------------------------------------------------------------------------------------
# Reading the grammar with lark

_DEFINITION = re.compile(
    r"^[ \t]*(?:%(?:override|extend)[ \t]+)?[?!]?([A-Za-z_]\w*)[ \t]*(?:\{[^}\n]*\})?[ \t]*(?:\.[ \t]*-?\d+)?[ \t]*:",
    re.M,
)
_IMPORT = re.compile(r"^[ \t]*%import[ \t]+([\w.]+)[ \t]*(?:->[ \t]*(\w+)|\(([^)]*)\))?", re.M)
_DECLARE = re.compile(r"^[ \t]*%declare\b([^\n]*)", re.M)


class _Where:
    """Lines of the grammar text where each name is defined (or imported), for error messages.

    Found by scanning the text rather than asked of lark, because lark's own errors (an undefined
    rule, a bad range) come before any definition object we could ask."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}

        def at(name: str, pos: int) -> None:
            self.lines.setdefault(name, text.count("\n", 0, pos) + 1)

        for m in _DEFINITION.finditer(text):
            at(m.group(1), m.start(1))
        for m in _IMPORT.finditer(text):
            names = m.group(3).split(",") if m.group(3) else [m.group(2) or m.group(1).rsplit(".", 1)[-1]]
            for name in names:
                at(name.strip(), m.start())
        for m in _DECLARE.finditer(text):
            for name in m.group(1).split():
                at(name, m.start())

    def line(self, name: str) -> str:
        return f" (line {self.lines[name]})" if name in self.lines else ""

    def explain(self, error: Exception) -> str:
        """lark's message, with the line of the last grammar symbol it names (the one it blames)."""
        message = str(error).strip()
        if isinstance(error, UnexpectedInput):  # says where already
            return message
        named = [m for m in re.finditer(r"[A-Za-z_]\w*", message) if m.group() in self.lines]
        return message + self.line(named[-1].group()) if named else message


_ESCAPED_INNER = re.compile(re.escape(r".*?(?<!\\)(\\\\)*?") + r"([\"'`])(\1\1)?")
"""The inside of a string terminal written with a lookbehind, and its closing quote (or three, for
python.lark's long strings), as in common.lark's ``ESCAPED_STRING``. A lookbehind has no
automaton; what Lark's lexer makes of it (the shortest match: up to the first closing quote not
escaped by a backslash) is regular, and replaces it (:func:`_escaped_inner`)."""


def _escaped_inner(match: re.Match[str], dotall: bool) -> str:
    quote, triple = match[1], match[2]
    plain = f"[^{quote}\\\\]" if dotall else f"[^{quote}\\\\\\n]"  # "." reads a line break only with DOTALL
    escape = r"\\[\s\S]" if dotall else r"\\."
    if triple:  # up to two quotes at a time inside; never one last, or the string would have ended there
        return f"(?:{quote}{{0,2}}(?:{plain}|{escape}))*{quote * 3}"
    return f"(?:{plain}|{escape})*{quote}"


class _NoFlagFreeForm(Exception):
    """A construct with no automaton: left to the regex compiler, which says why it refuses it."""


_SURROGATES: CodePoints = ((0xD800, 0xDFFF),)
_CLASS_FLAGS = _sre.SRE_FLAG_IGNORECASE | _sre.SRE_FLAG_DOTALL | _sre.SRE_FLAG_ASCII


def _without_flags(regex: str) -> str | None:
    """The language of ``regex`` (flags included, ``(?i)`` most often) as a regex without flags,
    character classes spelled out; None when it has a construct with no automaton.

    A pattern with flags goes through ``re``'s parser in Python at every compile, and a terminal is
    compiled inside every rule it is inlined into: a case-insensitive name regex made lowering SQL
    take seconds. Without flags, the regex compiler's own fast parser reads it."""
    try:
        parsed = _sre_parse.parse(regex)
        return _items_source(parsed, parsed.state.flags)
    except (re.error, _NoFlagFreeForm):
        return None


def _items_source(items: list, flags: int) -> str:
    return "".join(_item_source(op, av, flags) for op, av in items)


def _item_source(op: object, av: object, flags: int) -> str:
    """One parsed item as a regex atom."""
    if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
        return _class_source(_class_ranges(op, hashable_item(av) if op is _sre.IN else av, flags & _CLASS_FLAGS))
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av  # type: ignore[misc]
        return f"(?:{_items_source(sub, (flags | add_flags) & ~del_flags)})"
    if op is _sre.BRANCH:
        return "(?:" + "|".join(_items_source(alt, flags) for alt in av[1]) + ")"  # type: ignore[index]
    if op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT:  # laziness picks a match, not the language
        low, high, sub = av  # type: ignore[misc]
        unbounded = high == _sre.MAXREPEAT
        quantifier = {(0, True): "*", (1, True): "+"}.get((low, unbounded)) or (
            f"{{{low},}}" if unbounded else f"{{{low},{high}}}")
        return f"(?:{_items_source(sub, flags)}){quantifier}"
    raise _NoFlagFreeForm(op)


@lru_cache(maxsize=4096)
def _class_ranges(op: object, key: object, flags: int) -> CodePoints:
    """The code points one parsed item matches under ``flags``, as the regex compiler reads it.

    ``re`` folds the case of a class character by character (a character matches when its lower
    case is that of a member, or a special case of one), so a class of ASCII characters is folded
    as the union of its members folded one by one: asking ``re`` for each class, as the compiler
    does, scans Unicode's cased characters per class, and a case-insensitive name regex has
    hundreds of classes (most of them alike: memoized)."""
    if flags & _sre.SRE_FLAG_IGNORECASE and (op is _sre.LITERAL or op is _sre.IN):
        plain = item_code_points(op, key, flags & ~_sre.SRE_FLAG_IGNORECASE)
        if plain and plain[-1][1] < 0x80:
            return union(*(item_code_points(_sre.LITERAL, cp, flags) for lo, hi in plain for cp in range(lo, hi + 1)))
    return item_code_points(op, key, flags)


@lru_cache(maxsize=4096)
def _class_source(ranges: CodePoints) -> str:
    """A character class matching ``ranges`` (surrogates, which no UTF-8 text has, left out)."""
    ranges = subtract(ranges, _SURROGATES)
    if not ranges:
        raise _NoFlagFreeForm("empty class")
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _code_point_source(ranges[0][0])
    outside = subtract(complement(ranges), _SURROGATES)
    negate = bool(outside) and len(outside) < len(ranges)
    shown = outside if negate else ranges
    body = "".join(_code_point_source(lo) if lo == hi else f"{_code_point_source(lo)}-{_code_point_source(hi)}"
                   for lo, hi in shown)
    return f"[{'^' if negate else ''}{body}]"


def _code_point_source(cp: int) -> str:
    if cp < 0x80 and chr(cp).isalnum():
        return chr(cp)
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _terminal_regex(term: TerminalDef, context: str) -> tuple[_Term, bool]:
    """The terminal's regex as a :class:`_Term`, once checked to have a finite automaton of its own
    and to keep it wherever the terminal stands inside a rule; and whether it can start with a
    line break."""
    pattern = term.pattern
    if isinstance(pattern, PatternStr) and pattern.flags <= {"i"}:  # lark refuses empty literals
        if pattern.flags:  # "select"i: each character as the class of its cases
            regex = "".join(_item_source(_sre.LITERAL, ord(ch), _sre.SRE_FLAG_IGNORECASE) for ch in pattern.value)
        else:
            regex = pattern.to_regexp()
        return _Term(regex, _ATOM if len(pattern.value) == 1 else _SEQ), pattern.value.startswith("\n")
    source = _ESCAPED_INNER.sub(lambda m: _escaped_inner(m, "s" in pattern.flags), pattern.to_regexp())
    regex = (_without_flags(source) or source) if pattern.flags else source
    try:
        # framed by NUL bytes so that anchors, meaningful only at the ends of the whole text, are
        # rejected here as they would be once the terminal stands inside a rule
        dfa = compile_regex(f"\0(?:{regex})\0")
    except RegexError as e:
        if _matches_empty(source):  # the message a terminal would get if it had an automaton
            raise GrammarError(f"{context} matches the empty string, which a terminal may not") from None
        raise GrammarError(f"{context}: pattern {regex!r} cannot be enforced: {e}") from None
    framed_empty = dfa.transitions[dfa.transitions[0, 0], 0]  # after "\0\0": the empty string between
    if framed_empty >= 0 and dfa.accepting[framed_empty]:
        raise GrammarError(f"{context} matches the empty string, which a terminal may not")
    newline_first = bool(dfa.transitions[dfa.transitions[0, 0], ord("\n")] >= 0)
    return _Term(f"(?:{regex})", _ATOM), newline_first


def _matches_empty(regex: str) -> bool:
    try:
        return re.fullmatch(regex, "") is not None
    except re.error:
        return False


def _symbols(tree: Tree, kind: type[Symbol]) -> Iterator[Symbol]:
    """The symbols of ``kind`` a rule tree uses (an alias names a tree node, not a rule)."""
    for node in tree.iter_subtrees():
        for child in node.children[:1] if node.data == "alias" else node.children:
            if isinstance(child, kind):
                yield child


@dataclass(frozen=True)
class LarkRules:
    """A Lark grammar lowered for :meth:`guidegen.automata.pushdown.Grammar.from_regexes`.

    ``rules[0]`` matches the whole text (the start rule with the ignored text around it); every
    other rule is one that had to stay a call. ``names[k]`` is the Lark rule whose text ``rules[k]``
    matches, for messages. ``dfas[k]`` is ``rules[k]`` compiled (the lowering compiles each rule
    to check its size), for :meth:`~guidegen.automata.pushdown.Grammar.from_regexes`'s
    ``compiled``.
    """

    rules: list[str]
    names: list[str]
    dfas: list[DFA]
    implicit_end: bytes = b""  # for Grammar.from_regexes: an indentation grammar's final line break


def _load(
    text: str, source: str | os.PathLike[str] | None, where: _Where
) -> tuple[dict[str, Tree], dict[str, TerminalDef], list[str], list[str]]:
    """The rule trees (templates instantiated, literals made anonymous terminals), the terminals,
    the names of the ignored ones and those of the declared ones (``%declare``), as lark builds
    them for its own parsers."""
    try:
        builder = GrammarBuilder()
        builder.load_grammar(text, os.fspath(source) if source is not None else "<grammar>")
        grammar = builder.build()
        rule_defs = list(grammar.rule_defs)
        for name, _params, tree, _options in rule_defs:
            if tree is None:
                raise GrammarError(f"%declare {name}{where.line(name)}: {_DECLARED}")
        terminals: list[TerminalDef] = []
        declared: list[str] = []
        for name, (tree, priority) in grammar.term_defs:
            if tree is None:
                declared.append(name)
                continue
            try:
                pattern = (PrepareLiterals() * TerminalTreeToPattern()).transform(tree)
            except (LarkError, ValueError) as e:
                raise GrammarError(f"terminal {name!r}{where.line(name)}: {e}") from None
            terminals.append(TerminalDef(name, pattern, priority))
        prepare = PrepareLiterals() * ValidateSymbols() * PrepareAnonTerminals(terminals) * ApplyTemplates(rule_defs)
        trees: dict[str, Tree] = {}
        i = 0
        while i < len(rule_defs):  # instantiating templates appends to rule_defs
            name, params, tree, _options = rule_defs[i]
            i += 1
            if not params:
                trees[name] = prepare.transform(tree)
    except (LarkError, OSError) as e:
        raise GrammarError(f"bad Lark grammar: {where.explain(e)}") from None
    return trees, {t.name: t for t in terminals}, list(dict.fromkeys(grammar.ignore)), declared


def lower_lark(text: str, start: str = "start", *, source: str | os.PathLike[str] | None = None) -> LarkRules:
    """Lower the Lark grammar ``text`` (``start`` is the rule the whole text must match).

    ``source`` is the file the text comes from, if any: relative imports (``%import .other.x``)
    are looked up beside it, as Lark does.
    """
    where = _Where(text)
    trees, by_name, ignored_names, declared = _load(text, source, where)
    if start not in trees:
        raise GrammarError(f"the start rule {start!r} is not defined in the grammar")
    reachable = [start]
    for name in reachable:
        for sym in _symbols(trees[name], NonTerminal):
            if sym.name not in reachable:
                reachable.append(sym.name)
    reachable.sort(key=list(trees).index)
    for name in declared:
        if name not in (INDENT, DEDENT):
            raise GrammarError(f"%declare {name}{where.line(name)}: {_DECLARED}")
        if len(declared) != 2:
            raise GrammarError(f"%declare {name}{where.line(name)}: blocks by indentation need both {INDENT} and "
                               f"{DEDENT} declared (Lark's Indenter convention)")
    newline = _newline_terminal(trees, reachable, where) if declared else None

    def label(name: str) -> str:  # generated names (__ANON_0, __IGNORE_0) mean nothing to users
        pattern = by_name[name].pattern
        return (pattern.raw or pattern.to_regexp()) if name.startswith("__") else name

    terms: dict[str, _Term] = {}
    newline_tokens = False
    for name in reachable:
        for sym in _symbols(trees[name], Terminal):
            if sym.name not in terms and sym.name not in (INDENT, DEDENT, newline):
                context = f"terminal {label(sym.name)!r}{where.line(sym.name)}"
                if sym.name.startswith("__"):
                    context += f" in rule {name!r}{where.line(name)}"
                terms[sym.name], newline_first = _terminal_regex(by_name[sym.name], context)
                newline_tokens = newline_tokens or newline_first
    ignored = [_terminal_regex(by_name[n], f"%ignore terminal {label(n)!r}{where.line(n)}")[0] for n in ignored_names]
    # A line comment (/#[^\n]*/) may stop anywhere in a scannerless grammar, and text go on on its
    # line. Where line breaks are only ever ignored (no token starts with one), a lexer's reading is
    # kept instead, since it is what the grammar means: the comment runs to its line break. So
    # between tokens it takes its line break along; only at the end of the text may it end without
    # one. (That also spares the DFAs tracking every place a comment might have stopped.) With
    # indentation, the comment runs to the line break the line-break terminal stands for.
    line_comment = ("[^\\n]*", "[^\n]*")  # lark turns \n in a regex literal into the character
    comments = [t for n, t in zip(ignored_names, ignored) if by_name[n].pattern.to_regexp().endswith(line_comment)]
    indentation = None
    if newline is not None:
        ignored = [t for t in ignored if t not in comments]
        indentation = _indentation(trees, reachable, newline, by_name, ignored, comments, where)
    elif newline_tokens or not any(re.fullmatch(t.regex, "\n") for t in ignored if t not in comments):
        comments = []
    between = [_seq(t, _Term("\n", _ATOM)) if t in comments and indentation is None else t for t in ignored]
    ignore = _Repeat(_alt(between), 0, None) if between else None
    end = _seq(ignore, _opt(_alt(comments))) if comments else ignore

    lowering = _Lowering(ignore, indentation)
    start_key = lowering.copy(start)

    def lower(key: str) -> _Lang:
        try:
            return lowering.lower_copy(key, trees)
        except ValueError as e:
            name = lowering.contexts[key][0]
            raise GrammarError(f"rule {key!r}{where.line(name)}: {e}") from None

    # least fixpoint of "has ε", "has a non-empty string" and how the strings end, by a worklist: a
    # copy is lowered again only when a copy it refers to changed (a sweep over all of them needs as
    # many rounds as blocks nest), so each copy's last lowering is its final one
    callers: dict[str, set[str]] = {start_key: set()}
    langs: dict[str, _Lang] = {}
    todo = [start_key]
    while todo:
        key = todo.pop()
        lowering.referenced = set()
        lang = langs[key] = lower(key)
        for callee in lowering.referenced:
            if callee not in callers:
                callers[callee] = set()
                todo.append(callee)
            callers[callee].add(key)
        flags = (lang.expr is not None, lang.nullable, lang.ends)
        if flags != (lowering.nonempty.get(key), lowering.nullable.get(key), lowering.ends.get(key)):
            lowering.nonempty[key], lowering.nullable[key], lowering.ends[key] = flags
            todo.extend(c for c in callers[key] if c not in todo)
    order = {name: i for i, name in enumerate(reachable)}
    keys = sorted(lowering.contexts, key=lambda k: (order[lowering.contexts[k][0]], lowering.contexts[k][1:]))
    # a rule's copy may have no text where the depth bound cuts it: the rule is endless if every copy is
    finite = {lowering.contexts[k][0] for k in keys if lowering.nonempty[k] or lowering.nullable[k]}
    endless = [f"{n!r}{where.line(n)}" for n in dict.fromkeys(lowering.contexts[k][0] for k in keys) if n not in finite]
    if endless:
        plural = len(endless) > 1
        raise GrammarError(f"rule{'s' if plural else ''} {', '.join(endless)} match{'' if plural else 'es'} no "
                           "finite text: every alternative needs the rule itself again (or another such rule)")
    rules: dict[str, _Expr] = {}
    for key in keys:
        expr = langs[key].expr
        if expr is not None:
            rules[key] = expr
    if start_key not in rules:
        raise GrammarError(f"the start rule {start!r}{where.line(start)} matches only the empty text")

    rules.update(terms)  # terminals are rules too from here on: a long one may have to become a call
    for cycle in _cycles(rules):
        _remove_left_recursion(cycle, rules)
    lead = None if indentation else ignore  # no indentation before the first line
    whole = _seq(lead, _Ref(start_key), end)
    if lowering.nullable[start_key]:
        whole = _seq(lead, _opt(_alt([_seq(_Ref(start_key), end)] + comments)))
    names, regexes, dfas = _Calls(rules, whole, {r for cycle in _cycles(rules) for r in cycle}).regexes(start_key)
    # as Python's tokenizer does, the end of the text ends the last line too
    return LarkRules(regexes, [label(n) if n in terms else n for n in names], dfas, b"\n" if indentation else b"")


def _newline_terminal(trees: dict[str, Tree], reachable: list[str], where: _Where) -> str:
    """The line-break terminal of an indentation grammar: the one each ``_INDENT`` comes right after."""
    found: set[str] = set()
    for name in reachable:
        for node in trees[name].iter_subtrees():
            if node.data != "expansion":
                continue
            for before, item in zip([None, *node.children], node.children):
                if isinstance(item, Terminal) and item.name == INDENT:
                    if not isinstance(before, Terminal) or before.name in (INDENT, DEDENT):
                        raise GrammarError(f"rule {name!r}{where.line(name)}: {INDENT} must come right after the "
                                           "line-break terminal (as in `_NEWLINE _INDENT stmt+ _DEDENT`)")
                    found.add(before.name)
    if len(found) != 1:
        raise GrammarError(f"%declare {INDENT}{where.line(INDENT)}: " + (
            f"no rule uses {INDENT}" if not found else f"{INDENT} follows several terminals: {sorted(found)}"))
    return found.pop()


def _indentation(trees: dict[str, Tree], reachable: list[str], newline: str, by_name: dict[str, TerminalDef],
                 ignored: list[_Term], comments: list[_Term], where: _Where) -> _Indentation:
    """Blocks by indentation, read as Lark's ``Indenter`` post-lexer reads them: ``newline`` stands
    for a line break with the blank lines, comment lines and indentation after it, and inside
    brackets line breaks are ignored."""
    nl_regex = by_name[newline].pattern.to_regexp()
    if not all(re.fullmatch(nl_regex, text) for text in ("\n", "\n    ")):
        raise GrammarError(f"terminal {newline}{where.line(newline)} must match a line break and the indentation "
                           f"after it, as the Indenter reads it; its pattern is {nl_regex!r}")
    comment = "|".join(t.regex for t in comments)
    maybe_comment = f"(?:{comment})?" if comment else ""
    line_breaks = _Term(f"{maybe_comment}\\r?\\n(?:[\\t\\f ]*{maybe_comment}\\r?\\n)*", _SEQ)
    line_break = _Term(f"{maybe_comment}\\r?\\n", _SEQ)
    brackets = {"(": ")", "[": "]", "{": "}"}
    literal = {n: t.pattern.value for n, t in by_name.items() if isinstance(t.pattern, PatternStr)}
    depends = {n for n in reachable if any(s.name in (newline, INDENT, DEDENT) for s in _symbols(trees[n], Terminal))}
    grew = True
    while grew:
        before = len(depends)
        depends |= {n for n in reachable if any(s.name in depends for s in _symbols(trees[n], NonTerminal))}
        grew = len(depends) != before
    return _Indentation(
        newline=newline,
        line_breaks=line_breaks,
        in_brackets=_Repeat(_alt([*ignored, line_break]), 0, None),
        opening=frozenset(n for n, v in literal.items() if v in brackets),
        closing=frozenset(n for n, v in literal.items() if v in brackets.values()),
        depends_on_depth=frozenset(depends),
    )


def lark_to_rules(text: str, start: str = "start", *, source: str | os.PathLike[str] | None = None) -> list[str]:
    """The rule regexes of the Lark grammar ``text``, start rule first (see :func:`lower_lark`)."""
    return lower_lark(text, start, source=source).rules
