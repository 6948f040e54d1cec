"""Token masks: the Numba trie walk against a brute-force reference on SmolLM2's real vocabulary,
the DFA constraint's cursor, the regex compiler and its caches, and applying bitmasks to logits."""

from __future__ import annotations

import pickle
import random
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from guidegen.automata import constraint as constraint_mod
from guidegen.cache import flush_writes
from guidegen.automata import kernels
from guidegen.automata.constraint import DFAConstraint, RegexCompiler
from guidegen.automata.regex import compile_regex
from guidegen.automata.slices import vocab_index
from guidegen.constraint import Constraint, ConstraintState
from guidegen.errors import ConstraintError, RegexError
from guidegen.masks import allocate_bitmask, apply_bitmask_, fill_all, unpack_bitmask
from guidegen.vocab import Vocabulary

# fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tokenizer(asset_tokenizer):
    """SmolLM2's tokenizer, as `make install` builds it from the model's GGUF."""
    return asset_tokenizer("smollm2")


@pytest.fixture(scope="session")
def vocab(asset_vocabulary) -> Vocabulary:
    return asset_vocabulary("smollm2")


@pytest.fixture(scope="session")
def token_matrix(vocab):
    """(lengths int64[V], bytes uint8[V, Lmax]) — special tokens have length 0."""
    lengths = np.array([len(b) if b else 0 for b in vocab.token_bytes], dtype=np.int64)
    mat = np.zeros((vocab.size, int(lengths.max())), dtype=np.uint8)
    for i, b in enumerate(vocab.token_bytes):
        if b:
            mat[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return lengths, mat


def reference_allowed(dfa, vocab, token_matrix, state: int) -> np.ndarray:
    """Brute force: walk every token's bytes from ``state`` (vectorized over the vocabulary)."""
    lengths, mat = token_matrix
    t = dfa.transitions
    cur = np.full(vocab.size, state, dtype=np.int64)
    alive = lengths > 0
    for k in range(mat.shape[1]):
        act = alive & (k < lengths)
        if not act.any():
            break
        nxt = t[cur[act], mat[act, k]]
        cur[act] = np.maximum(nxt, 0)
        dead = np.zeros_like(alive)
        dead[act] = nxt < 0
        alive &= ~dead
    if dfa.accepting[state]:
        alive[list(vocab.eos_token_ids)] = True
    return alive


def reachable_states(dfa, limit: int, seed: int = 0) -> list[int]:
    """The first states in breadth-first order plus some found by random walks."""
    states = list(range(min(dfa.n_states, limit)))
    rng = random.Random(seed)
    for _ in range(limit):
        s = 0
        for _ in range(rng.randrange(1, 40)):
            live = dfa.live_bytes(s)
            if len(live) == 0:
                break
            s = dfa.walk(s, bytes([int(rng.choice(list(live)))]))
        states.append(s)
    return sorted(set(states))


MASK_PATTERNS = [
    r"[a-z]+",
    r"\d{3}-\d{4}",
    r"(true|false|null)",
    r'"([^"\\]|\\.){0,40}"',
    r".*",
    r"(?s).*",
    r"\w+@\w+\.(com|org)",
    r"[\u00e0-\u00ff\u4e00-\u9fff]{1,10}",
    r" ?[A-Z][a-z]+( [A-Z][a-z]+)*",
    r"😀+",
    r'\{"name": "[A-Za-z ]{1,30}", "age": \d{1,3}\}',
]


# the kernel ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", MASK_PATTERNS)
def test_kernel_equals_brute_force_on_real_vocabulary(vocab, token_matrix, pattern: str) -> None:
    constraint = RegexCompiler().compile(pattern, vocab, disk_cache=False)
    dfa = constraint.dfa
    for s in reachable_states(dfa, 12):
        row = constraint.mask_for_state(s)
        got = unpack_bitmask(row, vocab.size)
        want = reference_allowed(dfa, vocab, token_matrix, s)
        assert np.array_equal(got, want), (pattern, s, np.flatnonzero(got != want)[:10])
        # padding bits past the vocabulary stay clear
        assert not unpack_bitmask(row, row.shape[0] * 32)[vocab.size :].any()


def test_kernel_counts_and_overwrites(vocab) -> None:
    c = DFAConstraint(compile_regex(r"[ab]+"), vocab)
    dfa = c.dfa
    row = np.full(vocab.bitmask_width, -1, dtype=np.int32)  # garbage in: must be overwritten
    idx = vocab_index(vocab)
    count = kernels.fill_dfa_mask(
        dfa.transitions, dfa.accepting, np.int64(0), *idx.unpacked, np.int64(idx.max_token_len), row
    )
    allowed = unpack_bitmask(row, vocab.size)
    assert count == allowed.sum() > 0
    assert all(set(vocab.token_bytes[t]) <= {ord("a"), ord("b")} for t in np.flatnonzero(allowed))
    # the packed walk and the sliced mask agree with it
    packed = np.full(vocab.bitmask_width, -1, dtype=np.int32)
    kernels.fill_mask_packed(dfa.transitions, np.int64(0), *idx.trie_args(0), packed, True)
    assert np.array_equal(packed, row)
    assert np.array_equal(c.mask_for_state(0), row)
    assert kernels.walk_bytes(dfa.transitions, np.int64(0), np.frombuffer(b"abba", np.uint8)) >= 0
    assert kernels.walk_bytes(dfa.transitions, np.int64(0), np.frombuffer(b"abc", np.uint8)) == -1


def test_kernel_on_small_vocabulary_with_duplicates_specials_and_sign_bit() -> None:
    # 70 ids: word 0 bit 31 (id 31) and word 2 (ids 64..69); duplicates; specials; an empty token
    tokens: list[bytes | None] = [bytes([ord("a") + (i % 3)]) * (1 + i % 4) for i in range(70)]
    tokens[0] = None  # special, also EOS
    tokens[5] = None
    tokens[7] = b""
    tokens[31] = b"a"
    tokens[65] = b"ab"
    vocab = Vocabulary.from_token_bytes(tokens, [0])
    c = DFAConstraint(compile_regex(r"a+b?"), vocab)
    st0 = c.new_state()
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    st0.fill_mask(row)
    allowed = set(np.flatnonzero(unpack_bitmask(row, vocab.size)).tolist())
    expected = {i for i, b in enumerate(tokens) if b and re.fullmatch(rb"a+b?", b)}
    assert allowed == expected
    assert 31 in allowed and row[0] < 0  # bit 31 is the sign bit of the int32 word
    assert 0 not in allowed  # EOS: the start state is not accepting
    assert st0.advance(31)
    st0.fill_mask(row)
    allowed = set(np.flatnonzero(unpack_bitmask(row, vocab.size)).tolist())
    assert 0 in allowed and 65 in allowed and 5 not in allowed and 7 not in allowed
    assert not st0.advance(5) and not st0.advance(7) and not st0.advance(10_000)


# the constraint cursor -----------------------------------------------------------------------------


def test_protocols(vocab) -> None:
    c = RegexCompiler().compile(r"ab", vocab, disk_cache=False)
    assert isinstance(c, Constraint)
    assert isinstance(c.new_state(), ConstraintState)
    assert RegexCompiler.kind == "regex"


def _tid(vocab, text: str) -> int:
    return vocab.token_bytes.index(text.encode())


def test_advance_rollback_fork_eos(vocab) -> None:
    c = RegexCompiler().compile(r"(yes|no)!?", vocab, disk_cache=False)
    eos = vocab.eos_token_ids[0]
    s = c.new_state()
    assert c.n_memoized == 0  # masks are lazy
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    s.fill_mask(row)
    assert c.n_memoized == 1
    assert not unpack_bitmask(row, vocab.size)[eos]
    assert not s.advance(eos) and not s.is_accepting()
    assert not s.advance(_tid(vocab, "maybe"))
    assert s.advance(_tid(vocab, "yes"))
    assert s.is_accepting() and not s.is_finished()
    s.fill_mask(row)
    assert unpack_bitmask(row, vocab.size)[eos]
    branch = s.fork()
    assert s.advance(_tid(vocab, "!"))
    assert s.is_accepting() and s.is_finished()
    assert branch.state != s.state and not branch.is_finished()
    assert s.advance(eos) and s.finished and s.is_finished()
    s.fill_mask(row)
    assert np.flatnonzero(unpack_bitmask(row, vocab.size)).tolist() == [eos]
    assert not s.advance(_tid(vocab, "!"))
    assert s.advance(eos)  # padding after the end stays allowed
    s.rollback(2)
    assert not s.finished and s.is_finished()
    s.rollback(1)
    assert s.state == branch.state
    with pytest.raises(ValueError):
        s.rollback(5)
    with pytest.raises(ValueError):
        s.rollback(-1)
    s.rollback(0)
    s.rollback(1)
    assert s.state == 0 and s.n_consumed == 0


def test_forced_bytes(vocab) -> None:
    c = RegexCompiler().compile(r'\{"name": "(a|b)"\}', vocab, disk_cache=False)
    s = c.new_state()
    assert s.forced_bytes() == b'{"name": "'
    assert s.advance(_tid(vocab, "{"))
    assert s.forced_bytes() == b'"name": "'
    c2 = RegexCompiler().compile(r"é?x", vocab, disk_cache=False)
    assert c2.new_state().forced_bytes() == b""
    c3 = RegexCompiler().compile(r"中文", vocab, disk_cache=False)
    assert c3.new_state().forced_bytes() == "中文".encode()
    c4 = RegexCompiler().compile(r"ab(c)?", vocab, disk_cache=False)
    s4 = c4.new_state()
    assert s4.forced_bytes() == b"ab"
    assert s4.advance(_tid(vocab, "ab"))
    assert s4.forced_bytes() == b""  # accepting: stopping is a choice


def test_fill_mask_validates_row(vocab) -> None:
    s = RegexCompiler().compile(r"a", vocab, disk_cache=False).new_state()
    with pytest.raises(ValueError, match="int32"):
        s.fill_mask(np.zeros(vocab.bitmask_width + 1, dtype=np.int32))
    with pytest.raises(ValueError, match="int32"):
        s.fill_mask(np.zeros(vocab.bitmask_width, dtype=np.int64))
    batch = allocate_bitmask(2, vocab.size)
    s.fill_mask(batch[1])  # a row view of a batch
    assert batch[0].sum() == 0 and batch[1].any()


def test_constraint_pickles_with_its_memo(vocab) -> None:
    c = RegexCompiler().compile(r"[0-9]+", vocab, disk_cache=False)
    s = c.new_state()
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)
    s.fill_mask(row)
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.n_memoized == 1
    row2 = np.zeros_like(row)
    c2.new_state().fill_mask(row2)
    assert np.array_equal(row, row2)
    assert c2.parse("123") == "123"


def test_memo_is_bounded(vocab) -> None:
    c = DFAConstraint(compile_regex(r"[a-z]{0,50}"), vocab, max_memo=4)
    for s in range(10):
        c.mask_for_state(s)
    assert c.n_memoized == 4


# compiler and caches ---------------------------------------------------------------------------------


def test_compiler_options_and_errors(vocab) -> None:
    rc = RegexCompiler()
    with pytest.raises(ConstraintError, match="unknown regex option"):
        rc.compile("a", vocab, lenient=True)
    with pytest.raises(RegexError):
        rc.compile(123, vocab)
    with pytest.raises(RegexError, match="lookahead"):
        rc.compile("a(?=b)", vocab, disk_cache=False)
    c = rc.compile(re.compile("abc", re.IGNORECASE), vocab, disk_cache=False)
    assert c.dfa.matches(b"ABC")
    c = rc.compile("abc", vocab, flags=re.IGNORECASE, disk_cache=False)
    assert c.dfa.matches(b"aBc")


def test_disk_cache_skips_what_compiles_fast(vocab, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GUIDEGEN_CACHE", str(tmp_path))
    constraint_mod.clear_memory_cache()
    monkeypatch.setattr(constraint_mod, "DISK_WORTH_S", 60.0)
    RegexCompiler().compile(r"quick-[0-9]{2,3}", vocab)
    monkeypatch.setattr(constraint_mod, "DISK_WORTH_S", 0.0)
    RegexCompiler().compile(r"slow-[0-9]{2,3}", vocab)
    flush_writes()
    assert len(list((tmp_path / "index").glob("regex-*.pkl"))) == 1
    constraint_mod.clear_memory_cache()


def test_disk_cache_roundtrip_and_corruption(vocab, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GUIDEGEN_CACHE", str(tmp_path))
    monkeypatch.setattr(constraint_mod, "DISK_WORTH_S", 0.0)  # every compile is cached, however fast
    constraint_mod.clear_memory_cache()
    pattern = r"disk-cache-[0-9]{2,3}"
    c = RegexCompiler().compile(pattern, vocab)
    flush_writes()
    files = list((tmp_path / "index").glob("*.pkl"))
    assert len(files) == 1 and vocab.fingerprint[:16] in files[0].name
    # a fresh process (in-process cache cleared) reads the file
    constraint_mod.clear_memory_cache()
    calls = []
    real = constraint_mod.compile_regex
    monkeypatch.setattr(constraint_mod, "compile_regex", lambda *a, **k: calls.append(a) or real(*a, **k))
    c2 = RegexCompiler().compile(pattern, vocab)
    assert calls == [] and c2.dfa.fingerprint == c.dfa.fingerprint
    # a corrupt file is rebuilt and rewritten
    files[0].write_bytes(b"\x80\x04not a pickle")
    constraint_mod.clear_memory_cache()
    c3 = RegexCompiler().compile(pattern, vocab)
    flush_writes()
    assert len(calls) == 1 and c3.dfa.fingerprint == c.dfa.fingerprint
    assert pickle.loads(files[0].read_bytes())["dfa"].fingerprint == c.dfa.fingerprint
    # the in-process cache answers without touching the disk
    files[0].unlink()
    RegexCompiler().compile(pattern, vocab)
    assert len(calls) == 1 and not files[0].exists()
    constraint_mod.clear_memory_cache()


# token by token with the real tokenizer ---------------------------------------------------------------

ACCEPTANCE_PATTERNS = [
    r"-?\d{1,5}(\.\d{1,3})?",
    r"[a-z ]{1,40}",
    r'\{"name": "[^"\\\n]{0,20}", "n": -?\d{1,4}\}',
    r"(?i)hello,? (world|there)!?",
    r"[\u00e0-\u00ff\u4e00-\u4e20 ]{1,12}",
    r"(?s).{0,30}",
    r"(😀|🚀|é){1,4}x",
    r"\w+( \w+)*",
]


@pytest.mark.parametrize("pattern", ACCEPTANCE_PATTERNS)
def test_every_token_of_a_matching_text_is_allowed(tokenizer, vocab, pattern: str) -> None:
    constraint = RegexCompiler().compile(pattern, vocab, disk_cache=False)
    eos = vocab.eos_token_ids
    row = np.zeros(vocab.bitmask_width, dtype=np.int32)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(re.compile(pattern), fullmatch=True))
    def check(text: str) -> None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            return
        ids = tokenizer.encode(text, add_special_tokens=False)
        assume(b"".join(vocab.token_bytes[i] or b"\0" for i in ids) == data)
        state = constraint.new_state()
        for tid in ids:
            state.fill_mask(row)
            allowed = unpack_bitmask(row, vocab.size)
            assert allowed[tid], (text, tid, vocab.token_bytes[tid])
            assert all(allowed[e] == state.is_accepting() for e in eos)
            assert state.advance(tid)
        assert state.is_accepting()
        state.fill_mask(row)
        assert all(unpack_bitmask(row, vocab.size)[e] for e in eos)
        assert state.advance(eos[0]) and state.is_finished()
        state.rollback(len(ids) + 1)
        assert state.state == 0

    check()


# bitmask helpers and applying -----------------------------------------------------------------------


def test_allocate_fill_unpack() -> None:
    bm = allocate_bitmask(3, 70)
    assert bm.shape == (3, 3) and bm.dtype == np.int32 and not bm.any()
    fill_all(bm[1])
    assert unpack_bitmask(bm[1], 70).all() and unpack_bitmask(bm[1], 96).all()
    fill_all(bm[2], vocab_size=70)
    assert unpack_bitmask(bm[2], 70).all() and not unpack_bitmask(bm[2], 96)[70:].any()
    assert unpack_bitmask(bm, 70).shape == (3, 70)
    with pytest.raises(ValueError):
        allocate_bitmask(1, 0)
    with pytest.raises(ValueError):
        unpack_bitmask(bm[0], 200)
    with pytest.raises(ValueError):
        fill_all(np.zeros(3, np.float32))


def _random_bitmask(rng, shape, vocab_size):
    allowed = rng.random((*shape, vocab_size)) < 0.3
    bm = np.zeros((*shape, (vocab_size + 31) // 32), dtype=np.int32)
    packed = np.packbits(allowed, axis=-1, bitorder="little")
    pad = bm.shape[-1] * 4 - packed.shape[-1]
    packed = np.concatenate([packed, np.zeros((*shape, pad), np.uint8)], axis=-1)
    bm[...] = packed.view("<i4").reshape(bm.shape)
    return bm, allowed


@pytest.mark.parametrize("shape", [(4,), (2, 3), ()])
@pytest.mark.parametrize("extra_cols", [0, 5, 267])
def test_apply_bitmask_shapes_and_padding(shape, extra_cols) -> None:
    rng = np.random.default_rng(0)
    vocab_size = 1000
    bm, allowed = _random_bitmask(rng, shape, vocab_size)
    logits = torch.randn(*shape, vocab_size + extra_cols)
    before = logits.clone()
    out = apply_bitmask_(logits, bm)
    assert out is logits
    ok = torch.from_numpy(allowed)
    assert torch.equal(logits[..., :vocab_size][ok], before[..., :vocab_size][ok])
    assert torch.isneginf(logits[..., :vocab_size][~ok]).all()
    assert torch.isneginf(logits[..., vocab_size:]).all()
    # columns past vocab_size but inside the last word follow their (zero) bits
    assert torch.isneginf(logits[..., vocab_size : bm.shape[-1] * 32]).all()


def test_apply_bitmask_vocab_size_and_torch_mask_and_half() -> None:
    rng = np.random.default_rng(1)
    bm, allowed = _random_bitmask(rng, (2,), 100)
    fill_all(bm)
    logits = torch.zeros(2, 128, dtype=torch.float16)
    apply_bitmask_(logits, torch.from_numpy(bm), vocab_size=100)
    assert (logits[:, :100] == 0).all() and torch.isneginf(logits[:, 100:]).all()
    logits = torch.zeros(2, 128, dtype=torch.bfloat16)
    apply_bitmask_(logits, bm.view(np.uint32))
    assert (logits == 0).all()


def test_apply_bitmask_indices() -> None:
    rng = np.random.default_rng(2)
    bm, allowed = _random_bitmask(rng, (4,), 64)
    logits = torch.randn(4, 64)
    before = logits.clone()
    apply_bitmask_(logits, bm, indices=[1, 3])
    assert torch.equal(logits[[0, 2]], before[[0, 2]])
    ok = torch.from_numpy(allowed)
    for i in (1, 3):
        assert torch.isneginf(logits[i][~ok[i]]).all()
        assert torch.equal(logits[i][ok[i]], before[i][ok[i]])
    with pytest.raises(ValueError, match="out of range"):
        apply_bitmask_(logits, bm, indices=[4])


@pytest.mark.parametrize(
    "logits, bitmask, message",
    [
        (torch.zeros(2, 64), np.zeros((2, 2), np.int64), "int32"),
        (torch.zeros(2, 64), np.zeros((3, 2), np.int32), "does not match"),
        (torch.zeros(2, 64), np.zeros((2, 3), np.int32), "only 64 columns"),
        (torch.zeros(2, 64), np.zeros((2,), np.int32), "does not match"),
        (torch.zeros(2, 64, dtype=torch.int64), np.zeros((2, 2), np.int32), "floating"),
        (torch.zeros(2, 2, 2, 64), np.zeros((2, 2, 2, 2), np.int32), "shape"),
        (torch.zeros(2, 64), torch.zeros(2, 2, dtype=torch.int64), "int32"),
        (torch.zeros(2, 64), [[0, 0], [0, 0]], "numpy array or torch tensor"),
        (np.zeros((2, 64)), np.zeros((2, 2), np.int32), "torch.Tensor"),
    ],
)
def test_apply_bitmask_validation(logits, bitmask, message) -> None:
    with pytest.raises(ValueError, match=message):
        apply_bitmask_(logits, bitmask)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_apply_bitmask_on_cuda_matches_cpu() -> None:
    rng = np.random.default_rng(3)
    bm, _ = _random_bitmask(rng, (3, 2), 151669)
    cpu = torch.randn(3, 2, 151936)
    gpu = cpu.cuda()
    apply_bitmask_(cpu, bm)
    apply_bitmask_(gpu, bm)
    assert torch.equal(gpu.cpu(), cpu)
    gpu2 = torch.randn(3, 2, 151936, device="cuda")
    apply_bitmask_(gpu2, torch.from_numpy(bm).cuda())
    assert torch.equal(torch.isneginf(gpu2).cpu(), torch.isneginf(cpu))
    for dtype in (torch.bfloat16, torch.float16):  # NaN stays NaN, masked or not, on either path
        cpu = torch.randn(3, 2, 151936).to(dtype)
        cpu[:, :, ::7] = float("nan")
        gpu = cpu.cuda()
        apply_bitmask_(cpu, bm, vocab_size=151000)
        apply_bitmask_(gpu, bm, vocab_size=151000)
        assert torch.equal(gpu.cpu().isnan(), cpu.isnan()) and torch.equal(gpu.cpu().nan_to_num(), cpu.nan_to_num())
