"""Token slices and the packed trie walk: every mask bit against a brute-force reference that walks
each token's bytes through the DFA, on real vocabularies (llama3, qwen2, llama2-spm: the last one
has tokens sharing their bytes) and on small synthetic ones, over many DFA states of JSON-ish and
random regexes."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from guidegen.automata import kernels, slices
from guidegen.automata.constraint import DFAConstraint
from guidegen.automata.regex import compile_regex
from guidegen.errors import RegexError
from guidegen.masks import unpack_bitmask
from guidegen.vocab import Vocabulary, build_trie

# --------------------------------------------------------------------------------------------------
# the reference


class Reference:
    """Brute force over a vocabulary: walk every token's bytes from a state, all tokens at once.

    Tokens are sorted by length (longest first), so step ``k`` only touches the tokens longer than
    ``k``: a contiguous prefix. A dead walk parks in an extra sink state."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        lengths = np.array([len(b) if b else 0 for b in vocab.token_bytes], dtype=np.int64)
        self.order = np.argsort(-lengths, kind="stable")
        self.lengths = lengths[self.order]
        width = int(self.lengths[0])
        mat = np.zeros((vocab.size, width), dtype=np.uint8)
        for row, tid in enumerate(self.order.tolist()):
            b = vocab.token_bytes[tid]
            if b:
                mat[row, : len(b)] = np.frombuffer(b, dtype=np.uint8)
        # column k, for the tokens longer than k only (a prefix of the order), contiguous
        self.columns = [mat[: int((self.lengths > k).sum()), k].astype(np.int64) for k in range(width)]

    def allowed(self, dfa, state: int) -> np.ndarray:
        t = dfa.transitions.astype(np.int64)
        sink = t.shape[0]
        table = np.vstack([np.where(t < 0, sink, t), np.full((1, 256), sink, dtype=np.int64)]).ravel()
        cur = np.full(self.vocab.size, state, dtype=np.int64)
        for col in self.columns:
            n = col.shape[0]
            if n == 0:
                break
            head = cur[:n]
            head *= 256
            head += col
            cur[:n] = table[head]
        ok = np.zeros(self.vocab.size, dtype=bool)
        ok[self.order] = (cur != sink) & (self.lengths > 0)
        if dfa.accepting[state]:
            ok[list(self.vocab.eos_token_ids)] = True
        return ok


_REFERENCES: dict[str, Reference] = {}


def reference_for(vocab: Vocabulary) -> Reference:
    ref = _REFERENCES.get(vocab.fingerprint)
    if ref is None:
        ref = _REFERENCES[vocab.fingerprint] = Reference(vocab)
    return ref


def sample_states(dfa, n_bfs: int, n_walks: int, seed: int = 0) -> list[int]:
    """The first states in breadth-first order plus the ends of random walks."""
    states = set(range(min(dfa.n_states, n_bfs)))
    rng = random.Random(seed)
    for _ in range(n_walks):
        s = 0
        for _ in range(rng.randrange(1, 60)):
            live = dfa.live_bytes(s)
            if len(live) == 0:
                break
            nxt = dfa.walk(s, bytes([int(rng.choice(list(live)))]))
            if nxt < 0:
                break
            s = nxt
        states.add(s)
    return sorted(states)


def check_states(constraint: DFAConstraint, states, ref: Reference, used: dict | None = None) -> None:
    vocab = constraint.vocab
    for s in states:
        row = constraint.mask_for_state(s)
        got = unpack_bitmask(row, vocab.size)
        want = ref.allowed(constraint.dfa, s)
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (s, constraint.slice_of(s), [(int(t), vocab.token_bytes[t]) for t in bad[:8]])
        assert not unpack_bitmask(row, row.shape[0] * 32)[vocab.size :].any()
        if used is not None:
            name = constraint.slice_of(s)
            used[name] = used.get(name, 0) + 1


# --------------------------------------------------------------------------------------------------
# real vocabularies, JSON-ish regexes

JSON_PATTERNS = [
    # strings: maxLength (json_string_16 while 16+ characters remain), escapes, unbounded
    r'"[^"\\\x00-\x1f]{0,40}"',
    r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}){2,24}"',
    r'"([^"\\\x00-\x1f]|\\.)*"',
    # a JSON Schema pattern's "." (BMP, no U+2028/U+2029) after a date
    '"[0-9]{4}-[0-9]{2}-[0-9]{2}[^"\\\\\\x00-\\x1f\\u2028\\u2029\\U00010000-\\U0010ffff]*"',
    # numbers, enums
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?",
    r'(?:"red"|"green"|"blue"|null|true|[0-9]{1,3})',
    # identifiers and hostnames (alnum / lower_digit slices)
    r'"[a-z][a-z0-9]*"',
    r'"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*"',
    # an object
    r'\{"name":"(?:[^"\\\x00-\x1f]|\\.)*","id":[0-9]{1,6}(?:,"tags":\[(?:"[a-z0-9_]*"(?:,"[a-z0-9_]*")*)?\])?'
    r'(?:,"email":"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}")?(?:,"note":"[^"\\\x00-\x1f]{0,20}")?\}',
    r"(?s).*",
]


@pytest.mark.assets
def test_masks_equal_brute_force_on_llama3(asset_vocabulary) -> None:
    vocab = asset_vocabulary("llama3")
    ref = reference_for(vocab)
    used: dict = {}
    for pattern in JSON_PATTERNS:
        c = DFAConstraint(compile_regex(pattern), vocab)
        check_states(c, sample_states(c.dfa, 32, 32), ref, used)
    # every slice was exercised, and so was the full walk
    names = {s.name for s in slices.vocab_index(vocab).slices}
    assert names <= set(used), used
    assert used.get(None, 0) > 0


@pytest.mark.assets
@pytest.mark.parametrize("name", ["qwen2", "llama2-spm"])
def test_masks_equal_brute_force_on_other_vocabularies(asset_vocabulary, name: str) -> None:
    vocab = asset_vocabulary(name)
    ref = reference_for(vocab)
    used: dict = {}
    for pattern in JSON_PATTERNS:
        c = DFAConstraint(compile_regex(pattern), vocab)
        check_states(c, sample_states(c.dfa, 12, 12, seed=1), ref, used)
    assert "json_string" in used and None in used


@pytest.mark.assets
def test_llama2_spm_has_tokens_sharing_bytes(asset_vocabulary) -> None:
    # the multi-token side table is really exercised: "<0x22>" and '"' are both b'"' there
    vocab = asset_vocabulary("llama2-spm")
    idx = slices.vocab_index(vocab)
    assert idx.multi_nodes.size > 0
    c = DFAConstraint(compile_regex(r'"[^"\\\x00-\x1f]*"'), vocab)
    quotes = [t for t, b in enumerate(vocab.token_bytes) if b == b'"']
    assert len(quotes) >= 2
    inside = c.dfa.walk(0, b'"abc')
    row = c.mask_for_state(inside)
    assert c.slice_of(inside) == "json_string"
    assert unpack_bitmask(row, vocab.size)[quotes].all()  # both ids, from the rest trie's side table


@pytest.mark.assets
def test_slice_choice_on_llama3(asset_vocabulary) -> None:
    vocab = asset_vocabulary("llama3")
    c = DFAConstraint(compile_regex(r'"[^"\\\x00-\x1f]{0,40}"'), vocab)
    s = c.dfa.walk(0, b'"')
    c.mask_for_state(s)
    assert c.slice_of(s) == "json_string_16"  # the unbounded slice gives up (40 characters at most)
    near_end = c.dfa.walk(0, b'"' + b"x" * 30)
    c.mask_for_state(near_end)
    assert c.slice_of(near_end) is None  # 10 characters left: no slice fits
    c = DFAConstraint(compile_regex(r'"([^"\\\x00-\x1f]|\\.)*"'), vocab)
    c.mask_for_state(1)
    assert c.slice_of(1) == "json_string"
    c = DFAConstraint(compile_regex(r"[a-z0-9]+"), vocab)
    c.mask_for_state(0)
    assert c.slice_of(0) == "lower_digit"
    c = DFAConstraint(compile_regex(r"[A-Za-z0-9]+"), vocab)
    c.mask_for_state(0)
    assert c.slice_of(0) == "alnum"


# --------------------------------------------------------------------------------------------------
# random regexes


ATOMS = [
    "a", "b", "z", "0", "7", " ", "-", ".", ",", ":", '"', "\\\\", "\\n", "é", "中", "😀",
    "[a-z]", "[A-Za-z0-9]", "[0-9]", "[^\"\\\\\\x00-\\x1f]", "[^a]", ".", "\\w", "\\d", "\\s",
    "[\\u0080-\\u07ff]", "[\\u4e00-\\u4e20]",
]


@st.composite
def regexes(draw, depth: int = 0) -> str:
    kind = draw(st.integers(0, 5 if depth < 3 else 1))
    if kind <= 1:
        return draw(st.sampled_from(ATOMS))
    if kind == 2:
        parts = draw(st.lists(regexes(depth + 1), min_size=2, max_size=4))
        return "".join(parts)
    if kind == 3:
        parts = draw(st.lists(regexes(depth + 1), min_size=2, max_size=3))
        return "(?:" + "|".join(parts) + ")"
    inner = draw(regexes(depth + 1))
    q = draw(st.sampled_from(["*", "+", "?", "{0,3}", "{2,5}", "{1,20}", "{3}"]))
    return "(?:" + inner + ")" + q


@pytest.mark.assets
def test_random_regexes_on_llama2_spm(asset_vocabulary) -> None:
    vocab = asset_vocabulary("llama2-spm")
    ref = reference_for(vocab)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(regexes())
    def check(pattern: str) -> None:
        try:
            dfa = compile_regex(pattern)
        except RegexError as e:  # e.g. (?:a[a-z]{1,20})*: a real DFA blow-up, refused as it should be
            assert "automaton states" in str(e), e
            reject()
        c = DFAConstraint(dfa, vocab)
        check_states(c, sample_states(dfa, 12, 8), ref)

    check()


# --------------------------------------------------------------------------------------------------
# small vocabularies: every path, exhaustively


def small_vocab(seed: int, with_long: bool = False) -> Vocabulary:
    rng = random.Random(seed)
    alphabet = [b"a", b"b", b"Z", b"0", b" ", b'"', b"\\", b"\n", "é".encode(), "中".encode(), "😀".encode()]
    tokens: list[bytes | None] = [None]  # id 0: special (EOS)
    for _ in range(300):
        tok = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 6)))
        cut = rng.random()
        if cut < 0.15 and len(tok) > 1:
            tok = tok[:-1]  # sometimes a partial character at the end
        elif cut < 0.25 and len(tok) > 1:
            tok = tok[1:]  # or a continuation byte at the start
        tokens.append(tok)
    tokens += [b"ab", b"ab", b'"', None, b""]  # duplicates, another special, an empty token
    tokens += [bytes([b]) for b in range(256)]  # every single byte
    if with_long:
        tokens.append(b"a" * 300)  # deeper than the packed layout allows
    return Vocabulary.from_token_bytes(tokens, [0])


SMALL_PATTERNS = [
    r'"[^"\\\x00-\x1f]*"',
    r'"[^"\\\x00-\x1f]{0,20}"',
    r'"(?:[^"\\\x00-\x1f]|\\.){0,30}"',
    r"[a-zA-Z0-9]*",
    r"(?s).*",
    r'(?:ab|"Z")*0?',
    r"[^\n]*\n",
    r"a{0,300}",
]


@pytest.mark.parametrize("seed", [0, 1])
def test_small_vocabularies_every_state(seed: int) -> None:
    vocab = small_vocab(seed)
    ref = Reference(vocab)
    idx = slices.vocab_index(vocab)
    assert idx.packed and idx.multi_nodes.size > 0
    for pattern in SMALL_PATTERNS:
        c = DFAConstraint(compile_regex(pattern), vocab)
        check_states(c, sample_states(c.dfa, 80, 40, seed=seed), ref)


def test_vocabulary_past_packed_limits_uses_the_unpacked_walk() -> None:
    vocab = small_vocab(3, with_long=True)
    idx = slices.vocab_index(vocab)
    assert not idx.packed and idx.slices == ()
    ref = Reference(vocab)
    for pattern in SMALL_PATTERNS:
        c = DFAConstraint(compile_regex(pattern), vocab)
        states = sample_states(c.dfa, 40, 20)
        check_states(c, states, ref)
        assert all(c.slice_of(s) is None for s in states)


def test_containment_is_exact_on_its_own_language() -> None:
    # slice_contained(state) must be True exactly when every string of the slice keeps the DFA
    # alive: check it against the slice's tokens in a vocabulary holding every short string
    chars = [b"a", b"Z", b"0", b'"', "é".encode()]
    tokens: list[bytes | None] = [None]
    for n in range(1, 4):
        frontier = [b""]
        for _ in range(n):
            frontier = [f + c for f in frontier for c in chars]
        tokens += frontier
    vocab = Vocabulary.from_token_bytes(tokens, [0])
    idx = slices.vocab_index(vocab)
    ref = Reference(vocab)
    # (pattern, whether a refused ASCII slice always has a counterexample of at most 3 characters)
    cases = [(r"[a-zA-Z0-9]*", True), (r"[a-z]*", True), (r'[^"]*', True), (r"[a-zA-Z0-9]{0,2}x?", True),
             (r"[a-zA-Z0-9é]{0,3}", False), (r'"(?:[^"\\]|\\.){0,5}"', False)]
    seen = set()
    for pattern, short_witness in cases:
        dfa = compile_regex(pattern)
        for s in range(dfa.n_states):
            allowed = ref.allowed(dfa, s)
            for k, sl in enumerate(idx.slices):
                members = np.flatnonzero(unpack_bitmask(idx.slice_masks[k], vocab.size))
                if idx.contained(dfa.transitions, s, k):
                    seen.add(sl.name)
                    assert allowed[members].all(), (pattern, s, sl.name)  # sound
                elif short_witness and sl.name in ("alnum", "lower_digit"):
                    assert not allowed[members].all(), (pattern, s, sl.name)  # and exact
    assert seen == {sl.name for sl in idx.slices}


# --------------------------------------------------------------------------------------------------
# building blocks


def test_slice_automata_match_the_regex_compiler() -> None:
    rng = random.Random(0)
    pool = ["a", "Z", "0", " ", '"', "\\", "\x1f", "\x7f", "é", "\u2028", "\u2029", "中", "\uffff",
            "😀", "\U0010ffff"]
    specs = [
        (slices.SliceSpec("s", slices.JSON_STRING_DOT_CHARS, 3),
         '[^"\\\\\\x00-\\x1f\\u2028\\u2029\\U00010000-\\U0010ffff]{0,3}'),
        (slices.SliceSpec("s", slices.JSON_STRING_CHARS, None), r'[^"\\\x00-\x1f]*'),
        (slices.SliceSpec("s", slices.ALNUM_CHARS, 2), r"[A-Za-z0-9]{0,2}"),
    ]
    for spec, pattern in specs:
        table = slices.slice_automaton(spec)
        dfa = compile_regex(pattern)
        for _ in range(400):
            text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 5))).encode()
            for cut in range(len(text) + 1):  # every prefix, partial characters included
                data = text[:cut]
                s = 0
                for b in data:
                    s = int(table[s, b])
                    if s < 0:
                        break
                assert (s >= 0) == (dfa.walk(0, data) >= 0), (spec.name, pattern, data)


def test_subtrie_equals_build_trie() -> None:
    rng = random.Random(0)
    for _ in range(200):
        tokens = [
            None if rng.random() < 0.1 else bytes(rng.choice(b"abc") for _ in range(rng.randrange(0, 5)))
            for _ in range(rng.randrange(1, 40))
        ]
        keep = np.array([rng.random() < 0.5 for _ in tokens])
        got = slices.subtrie(build_trie(tokens), keep)
        want = build_trie([t if k else None for t, k in zip(tokens, keep)])
        for a, b in zip(got, want):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_packed_walk_equals_unpacked_walk_and_ors() -> None:
    vocab = small_vocab(5)
    idx = slices.vocab_index(vocab)
    dfa = compile_regex(r'"(?:[^"\\\x00-\x1f]|\\.)*"|[ab0]+')
    for s in range(dfa.n_states):
        want = np.zeros(vocab.bitmask_width, dtype=np.int32)
        kernels.fill_dfa_mask(dfa.transitions, dfa.accepting, np.int64(s), *idx.unpacked,
                              np.int64(idx.max_token_len), want)
        got = np.full(vocab.bitmask_width, -1, dtype=np.int32)  # garbage: cleared
        kernels.fill_mask_packed(dfa.transitions, np.int64(s), *idx.trie_args(0), got, True)
        assert np.array_equal(got, want)
        ored = np.zeros(vocab.bitmask_width, dtype=np.int32)
        ored[0] = 1  # id 0 is special: never set by a walk, kept by OR
        kernels.fill_mask_packed(dfa.transitions, np.int64(s), *idx.trie_args(0), ored, False)
        assert ored[0] & 1 and np.array_equal(ored & ~np.int32(1), want & ~np.int32(1))


def test_warmup_compiles_every_signature_masks_use() -> None:
    kernels.warmup()
    watched = [kernels.fill_mask_sliced, kernels.fill_mask_packed, kernels.slice_contained, kernels.first_contained_slice,
               kernels.pack_trie, kernels.walk_many, kernels.fill_dfa_mask]
    before = [set(f.signatures) for f in watched]
    vocab = small_vocab(7)
    slices.clear_vocab_index_cache()
    c = DFAConstraint(compile_regex(r'"[^"\\\x00-\x1f]*"|[a-z]+'), vocab)
    for s in range(c.dfa.n_states):
        c.mask_for_state(s)
    long_vocab = small_vocab(8, with_long=True)
    c = DFAConstraint(compile_regex(r"a*"), long_vocab)
    c.mask_for_state(0)
    after = [set(f.signatures) for f in watched]
    for f, b, a in zip(watched, before, after):
        assert a == b, f"{f.__name__} compiled a new specialization: {a - b}"


def test_vocab_index_is_shared_and_picklable() -> None:
    import pickle

    vocab = small_vocab(9)
    a = slices.vocab_index(vocab)
    assert slices.vocab_index(Vocabulary.from_token_bytes(vocab.token_bytes, vocab.eos_token_ids)) is a
    b = pickle.loads(pickle.dumps(a))
    assert b.fingerprint == a.fingerprint and np.array_equal(b.nodes, a.nodes)
    c = DFAConstraint(compile_regex(r'"[^"\\\x00-\x1f]*"'), vocab)
    s = c.dfa.walk(0, b'"')
    row = c.mask_for_state(s)
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.n_memoized == c.n_memoized and np.array_equal(c2.mask_for_state(s), row)
    assert c2.slice_of(s) == "json_string"
    c2._masks.clear()
    assert np.array_equal(c2.mask_for_state(s), row) and c2.slice_of(s) == "json_string"
