"""The pushdown engine (guidegen.automata.pushdown): grammars of byte DFAs with calls, and their
token masks against a brute-force reference (every token's bytes stepped through the grammar's own
configuration semantics) on SmolLM2's and Llama-3's real vocabularies."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from guidegen.automata import pushdown
from guidegen.automata.pushdown import Grammar, PushdownConstraint, call_marker
from guidegen.errors import ConstraintError, GrammarError, RegexError
from guidegen.masks import unpack_bitmask

STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
V = call_marker(0)
JSON_VALUE = (r"null|true|false|" + NUMBER + "|" + STRING + r"|\[(?:" + V + r"(?:," + V + r")*)?\]"
              r"|\{(?:" + STRING + ":" + V + r"(?:," + STRING + ":" + V + r")*)?\}")


@pytest.fixture(scope="module")
def json_grammar() -> Grammar:
    return Grammar.from_regexes([JSON_VALUE])


def brute_force(grammar: Grammar, vocab, stacks) -> np.ndarray:
    out = np.zeros(vocab.size, dtype=bool)
    for tid, b in enumerate(vocab.token_bytes):
        if b:
            out[tid] = bool(grammar.step(stacks, b))
    if grammar.can_end(stacks):
        out[list(vocab.eos_token_ids)] = True
    return out


def assert_masks_exact(grammar: Grammar, vocab, texts, cuts_per_text: int = 6, seed: int = 0) -> None:
    rng = random.Random(seed)
    constraint = PushdownConstraint(grammar, vocab)
    for text in texts:
        data = text.encode()
        cuts = sorted(rng.sample(range(len(data) + 1), min(cuts_per_text, len(data) + 1)))
        for cut in cuts:
            stacks = grammar.step(grammar.start(), data[:cut])
            assert stacks, (text, cut)
            row = np.zeros(vocab.bitmask_width, dtype=np.int32)
            constraint.fill(stacks, row)
            got = unpack_bitmask(row, vocab.size)
            want = brute_force(grammar, vocab, stacks)
            wrong = np.flatnonzero(got != want)[:5]
            assert not len(wrong), (text, data[:cut], [(vocab.token_bytes[t], bool(got[t])) for t in wrong])


def test_recognizer(json_grammar: Grammar) -> None:
    for ok in ['{"a":[1,2,{"b":null}],"c":"x\\"y"}', "[[[[[]]]]]", '"s"', "-1.5e3", "[]", "{}"]:
        assert json_grammar.matches(ok), ok
    for bad in ['{"a":1,}', "[1,2", "[1 2]", '{"a"}', "", "nul", "[[]]]"]:
        assert not json_grammar.matches(bad), bad


@pytest.mark.assets
@pytest.mark.parametrize("name", ["smollm2", "llama3"])
def test_masks_equal_brute_force_json(json_grammar: Grammar, asset_vocabulary, name: str) -> None:
    vocab = asset_vocabulary(name)
    texts = ['{"a":[1,2,{"b":null}],"c":"x\\"y"}', '[[1,[true,{"k":[]}]],"end",-0.5]', '{"":{"":{"":""}}}']
    assert_masks_exact(json_grammar, vocab, texts, cuts_per_text=5 if name == "llama3" else 8)


@pytest.mark.assets
def test_masks_equal_brute_force_ambiguous_and_nullable(asset_vocabulary) -> None:
    """An ambiguous grammar with a nullable rule: the walk carries several stacks at once."""
    vocab = asset_vocabulary("smollm2")
    s, a, b = (call_marker(k) for k in range(3))
    grammar = Grammar.from_regexes([
        r"(?:" + a + r"x|" + b + r"xy)" + s + r"?|z",  # S: A x S? | B x y S? | z
        r"(?:ab)*",  # A: nullable
        r"a(?:b" + b + r")?|",  # B: nullable, recursive on the right
    ], names=["S", "A", "B"])
    texts = ["abxabxyz", "xxxz", "ababaxyx", "axyabxz"]
    assert all(grammar.matches(t) for t in texts)
    assert not any(grammar.matches(t) for t in ["abxab", "abbx", "xyy", ""])
    assert_masks_exact(grammar, vocab, texts, cuts_per_text=5)


@pytest.mark.assets
def test_a_walk_too_wide_for_its_scratch_areas_is_retried_larger(asset_vocabulary, monkeypatch) -> None:
    """Nested optional calls on "=" runs (tokens of up to 64 "=") overflow the smallest scratch
    areas; the retry at a larger scale gives the exact mask, and an exponentially ambiguous grammar
    that no scale holds raises a clear error."""
    vocab = asset_vocabulary("smollm2")
    one = call_marker(1)
    grammar = Grammar.from_regexes([one, "=(?:" + one + ")?=?"])
    monkeypatch.setattr(pushdown, "_WALK_SCALES", (0,))
    with pytest.raises(ConstraintError, match="too ambiguous"):
        PushdownConstraint(grammar, vocab).fill(grammar.start(), np.zeros(vocab.bitmask_width, dtype=np.int32))
    monkeypatch.setattr(pushdown, "_WALK_SCALES", (0, 3))
    assert_masks_exact(grammar, vocab, ["=" * 70], cuts_per_text=3)
    monkeypatch.undo()
    explosive = Grammar.from_regexes(["(?:" + one + ")*", "(?:=|==)(?:" + one + ")?"])
    with pytest.raises(ConstraintError, match="too ambiguous"):
        PushdownConstraint(explosive, vocab).fill(explosive.start(), np.zeros(vocab.bitmask_width, dtype=np.int32))


@pytest.mark.assets
def test_state_cursor_rollback_fork_forced(json_grammar: Grammar, asset_tokenizer, asset_vocabulary) -> None:
    vocab = asset_vocabulary("smollm2")
    tok = asset_tokenizer("smollm2")
    constraint = PushdownConstraint(json_grammar, vocab)
    text = '{"k":[[1],{"x":true}]}'
    ids = tok.encode(text, add_special_tokens=False)
    st = constraint.new_state()
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    for t in ids:
        st.fill_mask(row)
        assert unpack_bitmask(row, vocab.size)[t]
        assert st.advance(t)
    assert st.is_accepting() and st.is_finished()
    eos = next(iter(vocab.eos_token_ids))
    st.fill_mask(row)
    assert unpack_bitmask(row, vocab.size)[eos]
    branch = st.fork()
    st.rollback(3)
    assert not st.is_accepting() and branch.is_accepting()
    assert st.n_consumed == len(ids) - 3
    for t in ids[-3:]:
        assert st.advance(t)
    assert st.advance(eos) and st.is_finished()
    bad = tok.encode("]", add_special_tokens=False)[0]
    fresh = constraint.new_state()
    assert not fresh.advance(bad) and fresh.n_consumed == 0
    # forced bytes: after '{"k":tru' only 'e' can follow; after '[' nothing is forced
    fresh2 = constraint.new_state()
    for t in tok.encode('{"k":tru', add_special_tokens=False):
        assert fresh2.advance(t)
    assert fresh2.forced_bytes() == b"e"
    clone = pickle.loads(pickle.dumps(constraint))
    st2 = clone.new_state()
    for t in ids:
        assert st2.advance(t)
    assert st2.is_accepting()


def test_grammar_errors() -> None:
    a = call_marker(0)
    with pytest.raises(GrammarError, match="left-recursive"):
        Grammar.from_regexes([a + "x|y"], names=["expr"])
    with pytest.raises(GrammarError, match="left-recursive"):  # indirect, through a nullable rule
        Grammar.from_regexes([call_marker(1) + a + "x|y", "z?"], names=["S", "N"])
    with pytest.raises(GrammarError, match="derives no finite text"):
        Grammar.from_regexes(["x" + a])
    with pytest.raises(GrammarError, match="calls rule 5"):
        Grammar.from_regexes(["x" + call_marker(5)])
    with pytest.raises(GrammarError, match="out of range"):
        call_marker(1 << 20)
    with pytest.raises(GrammarError, match="bad"):
        Grammar.from_regexes(["x", "(unclosed"], names=["ok", "bad"])
    with pytest.raises(GrammarError):
        Grammar.from_regexes([])
    # a user regex never accepts a call marker
    from guidegen.automata.regex import compile_regex

    with pytest.raises(RegexError, match="surrogate"):
        compile_regex("a" + a)


def test_unproductive_branch_is_trimmed() -> None:
    """A call to a rule that derives nothing is dropped; what remains still completes."""
    grammar = Grammar.from_regexes(["a" + call_marker(1) + "|b", "x" + call_marker(1)])
    assert grammar.matches("b") and not grammar.matches("a")
    assert not grammar.step(grammar.start(), b"a")


def test_undo_log_forks_share_and_stay_independent() -> None:
    from guidegen.constraint import UndoLog

    log: UndoLog[int] = UndoLog()
    for i in range(5):
        log.push(i)
    branch = log.fork()  # O(1): shares every entry
    assert log.pop(2) == 3 and len(log) == 3
    branch.push(99)
    assert len(branch) == 6 and branch.pop(1) == 99 and branch.pop(5) == 0 and len(branch) == 0
    assert log.pop(3) == 0
    with pytest.raises(ValueError, match="cannot roll back 1 tokens: 0 were consumed"):
        log.pop(1)


@pytest.mark.assets
def test_deep_nesting_needs_no_recursion(asset_tokenizer, asset_vocabulary) -> None:
    """3,000 open brackets: the mask ORs in the rows of the stacks below bottom-up, not recursively."""
    vocab, tok = asset_vocabulary("smollm2"), asset_tokenizer("smollm2")
    v = call_marker(0)
    constraint = PushdownConstraint(Grammar.from_regexes([r"null|\[(?:" + v + r"(?:," + v + r")*)?\]"]), vocab)
    state = constraint.new_state()
    for t in tok.encode("[" * 3000 + "null", add_special_tokens=False):
        assert state.advance(t)
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    state.fill_mask(row)
    allowed = unpack_bitmask(row, vocab.size)
    assert allowed[tok.encode("]", add_special_tokens=False)[0]] and allowed[tok.encode(",", add_special_tokens=False)[0]]
    assert not state.is_accepting() and max(len(s) for s in state.stacks) == 3001


@pytest.mark.assets
def test_warmup_compiles_every_signature_pushdown_masks_use(asset_vocabulary) -> None:
    """``make install`` warms the kernels up; a mask must not compile a new specialization (the
    read-only grammar and index arrays are a type of their own)."""
    from guidegen.automata import pushdown_kernels

    pushdown_kernels.warmup()
    watched = [pushdown_kernels.frame_mask, pushdown_kernels.walk_stack, pushdown_kernels.reachable]
    before = [set(f.signatures) for f in watched]
    vocab = asset_vocabulary("smollm2")
    grammar = Grammar.from_regexes(['\\{(?:"a":' + call_marker(1) + ")?\\}", "\\[(?:" + call_marker(0) + "|1)?\\]"])
    constraint = PushdownConstraint(grammar, vocab)
    stacks = grammar.start()
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    for b in b'{"a":[{"a":[1]}]}':
        constraint.fill(stacks, row)
        stacks = grammar.step(stacks, bytes([b]))
        assert stacks
    after = [set(f.signatures) for f in watched]
    for f, b, a in zip(watched, before, after):
        assert a == b, f"{f.__name__} compiled a new specialization: {a - b}"
