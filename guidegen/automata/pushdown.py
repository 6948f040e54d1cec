"""Context-free constraints: a recursive transition network of byte DFAs, run as a pushdown automaton.

A :class:`Grammar` is a list of rules, each a byte DFA whose text may contain *calls* to other
rules (or itself): the regex of a rule writes ``call_marker(k)`` where the text of rule ``k`` goes.
Everything regular stays inside one DFA, so calls (frames on a stack) are needed only where the
language nests without bound: recursive JSON Schema ``$ref``, arbitrary JSON values, recursive
rules of a Lark grammar.

Masks (:class:`PushdownConstraint`) split the way XGrammar's adaptive cache does, at trie
granularity: the tokens a top frame reads without completing its rule depend on that frame's state
alone and are memoized per state, together with the trie nodes after which the rule may complete;
only the subtrees below those nodes are walked again with the frames underneath. The walks are the
Numba kernel in :mod:`.pushdown_kernels`.

The construction is top-down, so a rule that can call itself before reading a byte (left
recursion) is rejected when the grammar is built; :mod:`guidegen.grammar.lark` rewrites it away.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..constraint import UndoableCursor
from ..errors import ConstraintError, GrammarError, RegexError
from ..masks import set_bits
from ..vocab import Vocabulary
from . import pushdown_kernels as kernels
from .constraint import cached_compile_regex
from .dfa import DFA, EMPTY_TEXT, NO_TEXT
from .dfa_ops import call_edges, concatenate, splice_rules
from .regex_kernels import MARKER_BYTE, MARKER_RULES
from .slices import VocabIndex, vocab_index

__all__ = ["Grammar", "PushdownConstraint", "PushdownState", "call_marker", "MAX_RULES"]

MAX_RULES = MARKER_RULES  # two marker bytes: 8 first bytes x 248 second bytes

Stack = tuple[int, ...]  # global states, bottom frame first


def call_marker(rule: int) -> str:
    """The one-character placeholder for "the text of rule ``rule``" inside a rule's regex.

    It is a lone surrogate, which no text contains; the regex compiler turns it into two bytes
    that never occur in UTF-8 (see :data:`~.regex_kernels.MARKER_BYTE`)."""
    if not 0 <= rule < MAX_RULES:
        raise GrammarError(f"rule index {rule} out of range (a grammar has at most {MAX_RULES} rules)")
    return chr(0xD800 + rule)


class Grammar:
    """Rules as one global byte-state space plus call edges. Immutable, plain numpy, picklable.

    Built from rule DFAs (rule 0 starts) or with :meth:`from_regexes`. Every state left can
    still complete its rule, and every rule derives some text (unproductive calls are trimmed away;
    a grammar whose start rule derives nothing raises), so a configuration that is alive can always
    be completed.
    """

    def __init__(self, dfas: Sequence[DFA], names: Sequence[str] | None = None, *, implicit_end: bytes = b"") -> None:
        if not dfas:
            raise GrammarError("a grammar needs at least one rule")
        self.names = list(names) if names is not None else [f"rule {k}" for k in range(len(dfas))]
        # what the end of the text stands for, if anything: Python's implicit final line break
        self.implicit_end = implicit_end
        trans, self.rule_start = concatenate(dfas)
        accept = np.concatenate([d.accepting for d in dfas], dtype=np.bool_)
        calls, arrays = _extract_calls(trans, self.rule_start, self.names)
        trans[:, MARKER_BYTE:] = -1
        kept = _trim(trans, accept, calls, arrays, self.rule_start, self.names)
        self._set_tables(trans, accept, kept, arrays if kept is calls else None)
        self._check_left_recursion()

    # construction ----------------------------------------------------------------------------------
    @classmethod
    def from_regexes(cls, rules: Sequence[str | DFA | None], names: Sequence[str] | None = None,
                     *, vocab_fingerprint: str = "", compiled: Mapping[str, DFA] | None = None,
                     implicit_end: bytes = b"") -> "Grammar":
        """Compile each rule's regex (full match; ``call_marker(k)`` for rule ``k``; None: no text);
        ``compiled`` holds DFAs already compiled for some regexes. A rule given as a :class:`DFA`
        (an intersection or difference that calls nothing) is spliced into the rules that call it
        (:func:`~guidegen.automata.dfa_ops.splice_rules`). With ``implicit_end``, a text may also end
        where reading those bytes would let it end (see :meth:`can_end`)."""
        dfas: list[DFA | None] = []
        automata: dict[int, DFA] = {}
        for k, rx in enumerate(rules):
            if rx is None or isinstance(rx, DFA):
                if rx is not None:
                    automata[k] = rx
                dfas.append(rx)
                continue
            if compiled is not None and rx in compiled:
                dfas.append(compiled[rx])
                continue
            try:
                dfas.append(cached_compile_regex(rx, vocab_fingerprint=vocab_fingerprint, call_markers=True))
            except RegexError as e:
                name = names[k] if names is not None else f"rule {k}"
                raise GrammarError(f"{name}: {e}") from e
        # a spliced automaton's rule is called nowhere any more: it derives "" rather than nothing,
        # which the trimming would remove one pass per byte of the longest rule
        spliced = splice_rules(dfas, automata)
        return cls([EMPTY_TEXT if k in automata else NO_TEXT if d is None else d for k, d in enumerate(spliced)],
                   names, implicit_end=implicit_end)

    def _set_tables(self, trans: np.ndarray, accept: np.ndarray, calls: Calls,
                    arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """``arrays``: ``_call_arrays(calls)``, where the caller has it already."""
        self.trans = trans
        self.accept = accept
        self.call_off, self.call_rule, self.call_ret = \
            arrays if arrays is not None else _call_arrays(calls, trans.shape[0])
        self.calls: dict[int, tuple[tuple[int, int], ...]] = {g: tuple(cs) for g, cs in calls.items() if cs}
        for a in (self.trans, self.accept, self.call_off, self.call_rule, self.call_ret, self.rule_start):
            a.setflags(write=False)
        self.nullable_end = _nullable_end(accept, calls, self.rule_start)
        self._nullable_states = frozenset(np.flatnonzero(self.nullable_end).tolist())  # for can_end

    def _check_left_recursion(self) -> None:
        """A call reachable from a rule's start without reading a byte may not lead back to it."""
        left: list[set[int]] = []
        for start in self.rule_start:
            seen, todo, callees = {int(start)}, [int(start)], set()
            while todo:
                g = todo.pop()
                for j, ret in self.calls.get(g, ()):
                    callees.add(j)
                    if self.nullable_end[self.rule_start[j]] and ret not in seen:
                        seen.add(ret)
                        todo.append(ret)
            left.append(callees)
        for r in range(len(left)):
            seen, todo = set(), list(left[r])
            while todo:
                j = todo.pop()
                if j == r:
                    raise GrammarError(f"{self.names[r]} is left-recursive (it can call itself before reading "
                                       "any text); rewrite it so that text comes first")
                if j not in seen:
                    seen.add(j)
                    todo.extend(left[j])

    # pickling: the tables (derived lists are rebuilt) ----------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"names": self.names, "rule_start": np.array(self.rule_start), "trans": np.array(self.trans),
                "accept": np.array(self.accept), "calls": {g: list(c) for g, c in self.calls.items()},
                "implicit_end": self.implicit_end}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.names = state["names"]
        self.implicit_end = state["implicit_end"]
        self.rule_start = state["rule_start"]
        self._set_tables(state["trans"], state["accept"], state["calls"])

    @property
    def n_rules(self) -> int:
        return len(self.rule_start)

    @property
    def n_states(self) -> int:
        return int(self.trans.shape[0])

    # the configuration semantics (reference for the kernel; the slow path of advance) ---------------
    def start(self) -> frozenset[Stack]:
        return frozenset({(int(self.rule_start[0]),)})

    def expand(self, stacks: Iterable[Stack]) -> tuple[list[Stack], bool]:
        """The configurations that read the next byte directly (calls entered, completed frames
        returned from), and whether the whole text may end here."""
        ready: list[Stack] = []
        seen: set[Stack] = set()
        todo = list(stacks)
        complete = False
        while todo:
            st = todo.pop()
            if st in seen:
                continue
            seen.add(st)
            if not st:
                complete = True
                continue
            g = st[-1]
            ready.append(st)
            for j, ret in self.calls.get(g, ()):
                todo.append(st[:-1] + (ret, int(self.rule_start[j])))
            if self.accept[g]:
                todo.append(st[:-1])
        return ready, complete

    def step(self, stacks: Iterable[Stack], data: bytes) -> frozenset[Stack]:
        """The configurations after reading ``data`` (empty: the text is not a prefix)."""
        current = frozenset(stacks)
        t = self.trans
        for b in data:
            ready, _ = self.expand(current)
            current = frozenset(st[:-1] + (nxt,) for st in ready if (nxt := t.item(st[-1], b)) >= 0)
            if not current:
                break
        return current

    def can_end(self, stacks: Iterable[Stack]) -> bool:
        """True when some configuration may end the text here (every frame can complete at once), or
        could after reading :attr:`implicit_end` (a Python file may leave its last line break out)."""
        nullable = self._nullable_states
        if any(nullable.issuperset(st) for st in stacks):
            return True
        return bool(self.implicit_end) and any(nullable.issuperset(st) for st in self.step(stacks, self.implicit_end))

    def next_bytes(self, stacks: Iterable[Stack]) -> np.ndarray:
        """The bytes some configuration can read next (sorted)."""
        ready, _ = self.expand(stacks)
        if not ready:
            return np.zeros(0, dtype=np.int64)
        rows = self.trans[[st[-1] for st in ready]]
        return np.flatnonzero((rows >= 0).any(axis=0))

    def matches(self, text: bytes | str) -> bool:
        """True when the whole of ``text`` is in the language (the reference recognizer)."""
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        stacks = self.step(self.start(), text)
        return bool(stacks) and self.can_end(stacks)

    def __repr__(self) -> str:
        return f"Grammar({self.n_rules} rules, {self.n_states} states, {len(self.call_rule)} calls)"


# call edges (rule, resume state) of the states that call
Calls = Mapping[int, list[tuple[int, int]]]


def _extract_calls(trans: np.ndarray, rule_start: np.ndarray, names: Sequence[str]
                   ) -> tuple[dict[int, list[tuple[int, int]]], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Call edges ``(rule, resume state)`` of the states that call, read off the marker byte pairs;
    and the same as :func:`_call_arrays` gives them."""
    n_rules = len(rule_start)
    callers, rules, rets = call_edges(trans)
    unknown = np.flatnonzero(rules >= n_rules)
    if len(unknown):
        g, rule = int(callers[unknown[0]]), int(rules[unknown[0]])
        caller = names[int(np.searchsorted(rule_start, g, side="right")) - 1]
        raise GrammarError(f"{caller} calls rule {rule}, but the grammar has {n_rules} rules")
    calls: dict[int, list[tuple[int, int]]] = {}
    for g, rule, ret in zip(callers.tolist(), rules.tolist(), rets.tolist()):
        calls.setdefault(g, []).append((rule, ret))
    # call_edges lists them by caller state already
    off = np.zeros(trans.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(callers, minlength=trans.shape[0]), out=off[1:])
    return calls, (off, rules.astype(np.int32), rets)


def _call_arrays(calls: Calls, n_states: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The call edges of ``n_states`` states as CSR arrays ``(call_off, call_rule, call_ret)``."""
    callers = sorted(calls)
    counts = np.zeros(n_states + 1, dtype=np.int32)
    counts[np.asarray(callers, dtype=np.int64) + 1] = [len(calls[g]) for g in callers]
    off = np.cumsum(counts, dtype=np.int32)
    edges = np.array([edge for g in callers for edge in calls[g]], dtype=np.int32).reshape(-1, 2)
    return off, edges[:, 0].copy(), edges[:, 1].copy()


def _trim(trans: np.ndarray, accept: np.ndarray, calls: Calls,
          arrays: tuple[np.ndarray, np.ndarray, np.ndarray], rule_start: np.ndarray,
          names: Sequence[str]) -> Calls:
    """Drop calls to rules that derive no text and the states that then cannot complete (in place
    on ``trans``); returns the calls left (``calls`` itself when none is dropped). Raises when the
    start rule derives nothing. ``arrays``: ``_call_arrays(calls)``."""
    n_rules = len(rule_start)
    productive = np.zeros(n_rules, dtype=np.bool_)
    off, rule, ret = arrays
    changed = True
    while changed:  # a rule is productive when it completes using productive callees only
        changed = False
        for r in np.flatnonzero(~productive).tolist():
            if (accept & kernels.reachable(trans, off, rule, ret, np.int64(rule_start[r]), productive)).any():
                productive[r] = changed = True
    if not productive[0]:
        raise GrammarError(f"the start rule ({names[0]}) derives no finite text")
    if productive.all():
        return calls
    calls = {g: [(j, ret) for j, ret in cs if productive[j]] for g, cs in calls.items()}
    alive = accept.copy()
    changed = True
    while changed:
        nxt = alive | ((trans >= 0) & alive[np.maximum(trans, 0)]).any(axis=1)
        for g, cs in calls.items():
            if not nxt[g] and any(alive[ret] for _, ret in cs):
                nxt[g] = True
        changed = bool((nxt != alive).any())
        alive = nxt
    trans[(trans >= 0) & ~alive[np.maximum(trans, 0)]] = -1
    return {g: [(j, ret) for j, ret in cs if alive[ret]] for g, cs in calls.items()}


def _nullable_end(accept: np.ndarray, calls: Calls, rule_start: np.ndarray) -> np.ndarray:
    """States that can complete their rule without reading a byte (through calls that read none)."""
    out = accept.copy()
    changed = True
    while changed:
        changed = False
        for g in calls:
            if not out[g] and any(out[rule_start[j]] and out[ret] for j, ret in calls[g]):
                out[g] = changed = True
    return out


# Masks of distinct stacks kept per constraint (a row is ceil(V/32)*4 bytes).
DEFAULT_MAX_MEMO = 4096


# walk_stack's scratch areas: 2**3 times the kernel's base sizes (a 128k-frame pool; larger fresh
# areas cost more to allocate and touch than most walks take), then 8x, 64x and 512x that (a walk
# that overflowed has OR-ed only allowed tokens into the row). A constraint starts its walks at the
# largest scale one of them needed.
_WALK_SCALES = (3, 6, 9, 12)

# frame_mask's output areas (pops, call nodes, their states), one set per thread (the walks of a
# batch's rows may run at once)
_RULE_WALK_SCRATCH = threading.local()


def _rule_walk_scratch(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """This thread's output areas for :func:`.pushdown_kernels.frame_mask`, with room for ``n``
    nodes (a walk records each node of its trie at most once)."""
    arrays = getattr(_RULE_WALK_SCRATCH, "arrays", None)
    if arrays is None or arrays[0].shape[0] < n:
        arrays = _RULE_WALK_SCRATCH.arrays = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
                                              np.empty(n, dtype=np.int32))
    return arrays


class PushdownConstraint:
    """A :class:`Grammar` applied to a :class:`~guidegen.vocab.Vocabulary` (the Constraint protocol).

    A token is allowed when some configuration can read all of its bytes. Special tokens are never
    allowed, except end-of-sequence ids where the text may end.
    """

    def __init__(self, grammar: Grammar, vocab: Vocabulary, parse: Callable[[str], Any] | None = None,
                 *, max_memo: int = DEFAULT_MAX_MEMO) -> None:
        self.grammar = grammar
        self.vocab = vocab
        self._parse = parse
        self.max_memo = int(max_memo)
        self._setup()

    def _setup(self) -> None:
        self._eos = frozenset(self.vocab.eos_token_ids)
        self._index: VocabIndex | None = None
        self._inner: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
        self._stack_masks: OrderedDict[Stack, np.ndarray] = OrderedDict()
        self._set_masks: OrderedDict[frozenset[Stack], np.ndarray] = OrderedDict()
        self._walk_scale = 0  # index into _WALK_SCALES
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"grammar": self.grammar, "vocab": self.vocab, "parse": self._parse, "max_memo": self.max_memo}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.grammar = state["grammar"]
        self.vocab = state["vocab"]
        self._parse = state["parse"]
        self.max_memo = state["max_memo"]
        self._setup()

    # Constraint protocol ---------------------------------------------------------------------------
    def new_state(self) -> "PushdownState":
        return PushdownState(self, self.grammar.start())

    def parse(self, text: str) -> Any:
        return self._parse(text) if self._parse is not None else text

    # masks ------------------------------------------------------------------------------------------
    def _vocab_index(self) -> VocabIndex:
        idx = self._index
        if idx is None:
            idx = vocab_index(self.vocab)
            if not idx.packed:
                raise ConstraintError("grammar constraints need the packed vocabulary trie; this vocabulary "
                                      "has tokens longer than 255 bytes or too many trie nodes")
            self._index = idx
        return idx

    def _walk(self, stack: Sequence[int], start_nodes: np.ndarray, trie: int, record_pops: bool,
              words: np.ndarray) -> np.ndarray:
        """:func:`.pushdown_kernels.walk_stack` over packed trie ``trie`` (0: every token, ``k + 1``:
        the tokens outside slice ``k``); ``words`` must hold the trie's sink bit."""
        idx = self._vocab_index()
        g = self.grammar
        lo, hi = idx.trie_bounds[trie], idx.trie_bounds[trie + 1]
        pops = np.empty(hi - lo if record_pops else 0, dtype=np.int64)
        for at in range(self._walk_scale, len(_WALK_SCALES)):  # a wide walk retried with room for it
            n = kernels.walk_stack(
                g.trans, g.accept, g.call_off, g.call_rule, g.call_ret, g.rule_start,
                np.asarray(stack, dtype=np.int32), start_nodes, record_pops, idx.nodes, lo, hi,
                idx.multi_nodes, idx.multi_off, idx.multi_ids, idx.max_depth, words, pops, np.int64(_WALK_SCALES[at]),
            )
            if n != kernels.OVERFLOW:
                self._walk_scale = at
                return pops[:n].copy()
        raise ConstraintError(f"the grammar is too ambiguous to compute a token mask ({g!r})")

    def inner_mask(self, state: int) -> tuple[np.ndarray, np.ndarray, int]:
        """What a frame in ``state`` reads without completing its rule: (a read-only row; the trie
        nodes after which it may complete; the trie those nodes are in). Memoized per state.

        A slice that the byte DFA of some configuration ready at the start contains (see
        :mod:`.slices`) gives its bits at once, and only the tokens outside it are walked."""
        hit = self._inner.get(state)
        if hit is None:
            row, pops, trie = self._stack_inner(state) if state in self.grammar.calls else self._rule_inner(state)
            row.setflags(write=False)
            pops.setflags(write=False)
            hit = (row, pops, trie)
            with self._lock:
                self._inner[state] = hit
        return hit

    def _rule_inner(self, state: int) -> tuple[np.ndarray, np.ndarray, int]:
        """:meth:`inner_mask` of a state that calls nothing: a DFA walk inside its rule
        (:func:`.pushdown_kernels.frame_mask`), then a stack walk below each node where the rule
        starts calling, one per calling state."""
        idx = self._vocab_index()
        g = self.grammar
        width = self.vocab.bitmask_width
        # trie 0, every token, is the largest walked
        pops, call_nodes, call_states = _rule_walk_scratch(int(idx.trie_bounds[1] - idx.trie_bounds[0]) + 1)
        words, trie, n_pops, n_calls = kernels.frame_mask(g.trans, g.accept, g.call_off, np.int64(state),
                                                          *idx.sliced_args(), np.int64(width), pops, call_nodes,
                                                          call_states)
        found = pops[:n_pops].copy()
        if n_calls:
            parts = [found]
            states = call_states[:n_calls]
            for s in np.unique(states).tolist():
                parts.append(self._walk((s,), call_nodes[:n_calls][states == s], trie, True, words))
            found = np.unique(np.concatenate(parts))
        return words[:width].view(np.int32), found, trie

    def _stack_inner(self, state: int) -> tuple[np.ndarray, np.ndarray, int]:
        """:meth:`inner_mask` of a state that calls: a stack walk from the root, after the slice one of
        the configurations ready at the start contains (calls entered: an expression's identifiers
        are read a few calls down)."""
        idx = self._vocab_index()
        width = self.vocab.bitmask_width
        ready, _ = self.grammar.expand([(state,)])
        which = idx.first_contained(self.grammar.trans, np.fromiter({st[-1] for st in ready}, dtype=np.int64))
        words = np.zeros(width + 1, dtype=np.uint32)  # + the sink word
        if which >= 0:
            words[:width] = idx.slice_masks[which].view(np.uint32)
        trie = which + 1
        pops = self._walk((state,), idx.trie_bounds[trie : trie + 1].astype(np.int64), trie, True, words)
        return words[:width].view(np.int32), pops, trie

    def stack_mask(self, stack: Stack) -> np.ndarray:
        """The read-only row of tokens the configuration ``stack`` allows (EOS bits excluded).

        Where the top frame may complete at once, the row includes the row of the stack below it:
        those prefixes are computed first, bottom-up, so nesting depth costs no recursion."""
        if len(stack) == 1:  # nothing below: the frame's inner row (memoized per state)
            return self.inner_mask(stack[0])[0]
        pending: list[Stack] = []
        below_row: np.ndarray | None = None
        st = stack
        while True:
            hit = self._stack_masks.get(st)
            if hit is not None:
                below_row = hit
                break
            pending.append(st)
            _, pops, trie = self.inner_mask(st[-1])
            if len(st) == 1 or not len(pops) or pops[0] != self._vocab_index().trie_bounds[trie]:
                break
            st = st[:-1]
        for st in reversed(pending):
            below_row = self._compose(st, below_row)
        assert below_row is not None
        return below_row

    def _compose(self, stack: Stack, below_row: np.ndarray | None) -> np.ndarray:
        """``stack``'s row from its top frame's inner mask, the subwalks below its pop nodes and,
        when the top frame may complete at once, ``below_row`` (the row of ``stack[:-1]``)."""
        inner, pops, trie = self.inner_mask(stack[-1])
        below = stack[:-1]
        if not below or not len(pops):
            row = inner
        else:
            width = self.vocab.bitmask_width
            words = np.zeros(width + 1, dtype=np.uint32)
            words[:width] = inner.view(np.uint32)
            root = self._vocab_index().trie_bounds[trie]
            deeper = pops[pops != root]
            if len(deeper):  # tokens that complete the top frame partway and go on below it
                self._walk(below, deeper, trie, False, words)
            row = words[:width].view(np.int32).copy()
            if pops[0] == root:  # the top frame may complete at once: whatever the frames below read
                assert below_row is not None
                np.bitwise_or(row, below_row, out=row)
            row.setflags(write=False)
        with self._lock:
            self._stack_masks[stack] = row
            if len(self._stack_masks) > self.max_memo:
                self._stack_masks.popitem(last=False)
        return row

    def fill(self, stacks: frozenset[Stack], out: np.ndarray) -> None:
        """Write the mask of a set of configurations (EOS bits included) into ``out``; memoized per set."""
        row = self._set_masks.get(stacks)
        if row is None:
            first, *rest = stacks
            row = self.stack_mask(first).copy()
            for st in rest:
                np.bitwise_or(row, self.stack_mask(st), out=row)
            if self.grammar.can_end(stacks):
                set_bits(row, self._eos)
            row.setflags(write=False)
            with self._lock:
                self._set_masks[stacks] = row
                if len(self._set_masks) > self.max_memo:
                    self._set_masks.popitem(last=False)
        np.copyto(out, row)

    def __repr__(self) -> str:
        return f"PushdownConstraint({self.grammar!r}, vocab size {self.vocab.size})"



class PushdownState(UndoableCursor):
    """One sequence's configurations in a :class:`PushdownConstraint` (``position``, also ``stacks``).

    Positions are immutable frozensets of stacks (tuples), so rollback and fork copy references only."""

    __slots__ = ("constraint",)

    def __init__(self, constraint: PushdownConstraint, stacks: frozenset[Stack], finished: bool = False) -> None:
        super().__init__(stacks, finished)
        self.constraint = constraint

    @property
    def stacks(self) -> frozenset[Stack]:
        return self.position

    def _eos_ids(self) -> frozenset[int]:
        return self.constraint._eos

    def _can_end(self) -> bool:
        return self.constraint.grammar.can_end(self.position)

    def _step(self, token_id: int) -> frozenset[Stack] | None:
        tb = self.constraint.vocab.token_bytes
        if not 0 <= token_id < len(tb) or not tb[token_id]:
            return None
        return self.constraint.grammar.step(self.position, tb[token_id]) or None

    def fill_mask(self, bitmask_row: np.ndarray) -> None:
        c = self.constraint
        width = c.vocab.bitmask_width
        if bitmask_row.shape != (width,) or bitmask_row.dtype not in (np.int32, np.uint32):
            raise ValueError(f"bitmask row must be int32[{width}], got {bitmask_row.dtype}{list(bitmask_row.shape)}")
        row = bitmask_row.view(np.int32)
        if self.finished:
            row[...] = 0
            set_bits(row, c._eos)
            return
        c.fill(self.position, row)

    def is_finished(self) -> bool:
        return self.finished or (self.is_accepting() and not len(self.constraint.grammar.next_bytes(self.position)))

    def forced_bytes(self) -> bytes:
        if self.finished:
            return b""
        g = self.constraint.grammar
        out = bytearray()
        stacks = self.position
        for _ in range(256):
            if g.can_end(stacks):
                break
            nb = g.next_bytes(stacks)
            if len(nb) != 1:
                break
            out.append(int(nb[0]))
            stacks = g.step(stacks, bytes(out[-1:]))
        return bytes(out)

    def __repr__(self) -> str:
        depth = max((len(s) for s in self.position), default=0)
        return f"PushdownState({len(self.position)} stacks, depth {depth}, finished={self.finished})"
