"""Intersection, difference and splicing of byte DFAs: agreement with re on every short text,
canonical results, errors."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from numba.core.registry import CPUDispatcher as Dispatcher

from guidegen.automata.dfa_ops import (called_rules, concatenate, difference, flatten, intersect, rule_order, splice,
                                       splice_rules)
from guidegen.automata.pushdown import MAX_RULES, Grammar, call_marker
from guidegen.automata.regex import compile_regex
from guidegen.errors import GrammarError, RegexError

ALPHABET = "ab1é"
TEXTS = ["".join(t) for n in range(6) for t in itertools.product(ALPHABET, repeat=n)]

PAIRS = [
    ("[ab]+1", ".{2,3}"),
    ("(?:ab)*", "a*b*"),
    ("a.*", ".*é"),
    ("[^1]*", "(?:a|b1)*"),
    ("é+|1", "é{2}|a"),
    (".*", "(?:aa)+"),
]


@pytest.mark.parametrize("left,right", PAIRS)
def test_intersection_and_difference_agree_with_re(left: str, right: str) -> None:
    a, b = compile_regex(left), compile_regex(right)
    both, rest = intersect(a, b), difference(a, b)
    for t in TEXTS:
        in_a, in_b = bool(re.fullmatch(left, t)), bool(re.fullmatch(right, t))
        assert (both is not None and both.matches(t)) == (in_a and in_b), (left, right, t)
        assert (rest is not None and rest.matches(t)) == (in_a and not in_b), (left, right, t)


def test_results_are_minimal_and_canonical() -> None:
    """A product equals the regex compiler's own minimal DFA of the same language."""
    assert intersect(compile_regex("[a-z]+"), compile_regex("[a-c0-9]{2}")).fingerprint == \
        compile_regex("[a-c]{2}").fingerprint
    assert difference(compile_regex("a|b|c"), compile_regex("b")).fingerprint == compile_regex("[ac]").fingerprint


def test_empty_results_are_none() -> None:
    assert intersect(compile_regex("a+"), compile_regex("b+")) is None
    assert difference(compile_regex("ab"), compile_regex("[ab]+")) is None


def test_state_limit_raises() -> None:
    with pytest.raises(RegexError, match="more than 50 states"):
        intersect(compile_regex(".{0,200}"), compile_regex("[^x]*"), max_states=50)


def test_splice_equals_the_regex_written_out() -> None:
    host = compile_regex("<" + call_marker(0) + ">(?:," + call_marker(300) + ")*" + call_marker(1), call_markers=True)
    parts = {0: compile_regex("a+|é"), 300: compile_regex("b|1{2}")}
    spliced = splice(host, parts)
    assert spliced.fingerprint == compile_regex("<(?:a+|é)>(?:,(?:b|11))*" + call_marker(1), call_markers=True).fingerprint
    # the marker without a part is still a call
    assert (spliced.transitions[:, 0xF8:] >= 0).any()
    whole = splice(spliced, {1: compile_regex("!")})
    assert whole.matches("<aa>,b,11!") and not whole.matches("<>!")
    assert not (whole.transitions[:, 0xF8:] >= 0).any()


def test_splice_keeps_the_calls_of_parts_but_refuses_nested_splicing() -> None:
    host = compile_regex(call_marker(0) + "|y", call_markers=True)
    spliced = splice(host, {0: compile_regex("x" + call_marker(2), call_markers=True)})
    assert spliced.fingerprint == compile_regex("x" + call_marker(2) + "|y", call_markers=True).fingerprint
    with pytest.raises(ValueError, match="calls a rule spliced with it"):
        splice(host, {0: compile_regex("x" + call_marker(2), call_markers=True), 2: compile_regex("z")})


def test_splice_rules_puts_automaton_rules_into_their_callers() -> None:
    both = intersect(compile_regex('"[a-z]*"'), compile_regex('".{2,3}"'))
    regexes = ["\\[" + call_marker(1) + "(?:," + call_marker(2) + ")*\\]", None, "\\{" + call_marker(1) + "\\}"]
    root, part, nested = splice_rules([compile_regex(regexes[0], call_markers=True), both,
                                       compile_regex(regexes[2], call_markers=True)], {1: both})
    assert part is None and called_rules(root) == {2} and called_rules(nested) == set()
    assert nested.matches('{"ab"}') and not nested.matches('{"a"}') and not nested.matches('{"abcd"}')
    assert called_rules(compile_regex(call_marker(0) + "|" + call_marker(513), call_markers=True)) == {0, 513}


def test_grammar_rules_given_as_automata() -> None:
    """A recursive grammar whose leaves are automata: the leaf is spliced, the recursion stays."""
    word = difference(compile_regex("[a-z]{1,4}"), compile_regex("nil"))
    grammar = Grammar.from_regexes(["\\(" + call_marker(1) + "(?: (?:" + call_marker(0) + "|" + call_marker(1) + "))*\\)",
                                    word])
    assert grammar.matches("(ab (cd e) nilx)")
    assert not grammar.matches("(ab nil)") and not grammar.matches("(abcde)")


def test_rule_order_puts_callees_first_and_finds_cycles() -> None:
    assert rule_order([{1, 2}, {2}, set(), {0}]) == [2, 1, 0]  # rule 3 is unreachable
    assert rule_order([{1}, {2}, {1}]) is None
    assert rule_order([{0}]) is None


def test_flatten_splices_a_call_tree_and_leaves_recursion_alone() -> None:
    """Rules called from several places (a value rule shared by members) become one automaton equal
    to the regex written out; a recursive grammar, or one whose copies pass the limit, stays rules."""
    value = compile_regex('"[a-z]*"|' + call_marker(2), call_markers=True)
    number = compile_regex("-?[0-9]+")
    root = compile_regex("\\{(?:a:" + call_marker(1) + ")?(?:,b:" + call_marker(1) + ")*\\}", call_markers=True)
    flat = flatten([root, value, number])
    written = compile_regex('\\{(?:a:(?:"[a-z]*"|-?[0-9]+))?(?:,b:(?:"[a-z]*"|-?[0-9]+))*\\}')
    assert flat is not None and flat.fingerprint == written.fingerprint
    assert flatten([root, value, None]).fingerprint == compile_regex('\\{(?:a:"[a-z]*")?(?:,b:"[a-z]*")*\\}').fingerprint
    recursive = compile_regex("\\[(?:" + call_marker(0) + ")?\\]", call_markers=True)
    assert flatten([recursive]) is None
    assert flatten([root, value, number], max_nfa=10) is None


def test_concatenate_moves_each_automaton_to_its_place() -> None:
    a, b = compile_regex("ab*"), compile_regex("x|yz")
    table, starts = concatenate([a, b])
    assert starts.tolist() == [0, a.n_states] and starts.dtype == np.int32 and table.flags.writeable
    assert np.array_equal(table[: a.n_states], a.transitions)
    assert np.array_equal(table[a.n_states :], np.where(b.transitions >= 0, b.transitions + a.n_states, -1))


def test_warmup_compiles_every_signature_automata_compilation_uses() -> None:
    """``make install`` warms the kernels up (``python -m`` this module and regex_kernels); compiling
    regexes, products, splices, flattened and recursive grammars must not compile a new
    specialization."""
    from guidegen.automata import dfa_ops, regex_kernels

    regex_kernels.warmup()
    dfa_ops.warmup()
    watched = [f for module in (regex_kernels, dfa_ops) for f in vars(module).values() if isinstance(f, Dispatcher)]
    before = [set(f.signatures) for f in watched]
    number, word = compile_regex("-?[0-9]+"), compile_regex("(?i)[a-z]{1,4}")
    test_grammar_rules_given_as_automata()
    test_flatten_splices_a_call_tree_and_leaves_recursion_alone()
    Grammar.from_regexes(["\\[(?:" + call_marker(1) + "|" + call_marker(0) + ")?\\]", intersect(number, compile_regex(".{2}"))])
    called_rules(difference(word, number))
    after = [set(f.signatures) for f in watched]
    for f, b, a in zip(watched, before, after):
        assert a == b, f"{f.__name__} compiled a new specialization: {a - b}"


@pytest.mark.parametrize("rule", [251, 504, 1983])
def test_a_marker_second_byte_is_never_read_as_a_call(rule: int) -> None:
    """A call marker is two bytes; its second byte is never one a marker starts with, so the state
    between them is not read as a caller (rule 251's marker once ended in 0xFB, and what followed
    the call, "," or "}", decoded as calls to rules 812 and 893)."""
    dfa = compile_regex(call_marker(rule) + "[,}]" + call_marker(7), call_markers=True)
    assert called_rules(dfa) == {rule, 7}
    with pytest.raises(GrammarError, match="out of range"):
        call_marker(MAX_RULES)
