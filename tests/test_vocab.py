"""Vocabulary: token bytes from real tokenizers, and the token trie."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer

from guidegen.assets import VOCAB_NAMES
from guidegen.errors import VocabularyError
from guidegen.vocab import TokenTrie, Vocabulary, build_trie

BYTE_LEVEL = ("llama3", "qwen2", "gpt2", "smollm2")
SENTENCEPIECE = ("llama2-spm", "mistral-spm", "mistral-v3-spm")

TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.  Twice.",
    "日本語のテキストと中文混合",
    "Ünïcödé — «ñ» ½ € ß",
    "emoji 🦙🚀 and a family 👩‍👩‍👧 with a ZWJ",
    '{"name": "Bob", "age": 42, "tags": ["a", "b\\n"], "ok": true, "x": null}',
    "\t\tindented\n\n\nlines\r\n",
    "Привет мир, γειά σου κόσμε, مرحبا بالعالم, नमस्ते दुनिया",
    "  two leading spaces",
    "code: def f(x):\n    return x ** 2  # comment",
]

# (vocabulary, llama.cpp golden file) pairs whose ids are the same token ids as our folder's.
GOLDEN = [
    ("gpt2", "ggml-vocab-gpt-2"),
    ("qwen2", "ggml-vocab-qwen2"),
    ("llama3", "ggml-vocab-llama-bpe"),
    ("llama2-spm", "ggml-vocab-llama-spm"),
]

EXPECTED_EOS = {
    "llama3": {"<|end_of_text|>", "<|eot_id|>"},  # eos + the chat template's turn end
    "qwen2": {"<|endoftext|>", "<|im_end|>"},
    "gpt2": {"<|endoftext|>"},
    "smollm2": {"<|im_end|>"},  # <|endoftext|> is special but not in its chat template
    "llama2-spm": {"</s>"},
    "mistral-spm": {"</s>"},
    "mistral-v3-spm": {"</s>"},
}


def joined(vocab: Vocabulary, ids: list[int]) -> bytes:
    pieces = [vocab.token_bytes[i] for i in ids]
    assert None not in pieces, f"a text token mapped to None: {ids}"
    return b"".join(pieces)  # type: ignore[arg-type]


def dummy_prefix(vocab: Vocabulary, tokenizer) -> bytes:
    """The space a SentencePiece tokenizer puts before a text (``▁`` on the first word).

    Token bytes keep that space: a generated ``▁word`` token really is " word". The decoder
    strips it only at the very start of a text, so round trips expect it back in front.
    """
    probe = joined(vocab, tokenizer.encode("a", add_special_tokens=False))
    assert probe in (b"a", b" a")
    return probe[:-1]


def expected_bytes(text: str, prefix: bytes) -> bytes:
    # tokenizers' Metaspace adds no dummy prefix to a text that already starts with a space.
    if not text or text.startswith(" "):
        return text.encode()
    return prefix + text.encode()


# --------------------------------------------------------------------------- trie


def assert_trie_invariants(token_bytes, trie: TokenTrie) -> None:
    node_byte = trie.node_byte.tolist()
    subtree_end = trie.subtree_end.tolist()
    start = trie.token_start.tolist()
    end = trie.token_end.tolist()
    ids = trie.token_ids.tolist()
    n = len(node_byte)
    assert subtree_end[0] == n
    assert start[0] == 0 and end[-1] == len(ids)
    prefixes = [b""] * n
    stack = [0]
    last_child_byte = {0: -1}
    for i in range(1, n):
        while subtree_end[stack[-1]] <= i:
            stack.pop()
        parent = stack[-1]
        assert i < subtree_end[i] <= subtree_end[parent], f"node {i}: subtree not nested"
        assert node_byte[i] > last_child_byte[parent], f"node {i}: children not sorted/distinct"
        last_child_byte[parent] = node_byte[i]
        last_child_byte[i] = -1
        prefixes[i] = prefixes[parent] + bytes((node_byte[i],))
        stack.append(i)
        # preorder: token ranges follow each other, and no subtree is empty
        assert start[i] == end[i - 1] and end[i] >= start[i]
        assert end[subtree_end[i] - 1] > start[i], f"node {i}: no token below it"
    for i in range(n):
        for tid in ids[start[i] : end[i]]:
            assert token_bytes[tid] == prefixes[i], f"token {tid} listed at the wrong node"
    expected = sorted(i for i, b in enumerate(token_bytes) if b)
    assert sorted(ids) == expected, "every token with bytes is reachable exactly once"


def test_build_trie_structure_on_a_tiny_vocabulary() -> None:
    trie = build_trie([b"ab", b"a", None, b"b", b"ab", b"abc", b""])
    # preorder: root, a, ab, abc, b; ids sharing bytes sit together, by id
    assert trie.node_byte.tolist() == [0, ord("a"), ord("b"), ord("c"), ord("b")]
    assert trie.subtree_end.tolist() == [5, 4, 4, 4, 5]
    assert trie.token_start.tolist() == [0, 0, 1, 3, 4]
    assert trie.token_end.tolist() == [0, 1, 3, 4, 5]
    assert trie.token_ids.tolist() == [1, 0, 4, 5, 3]
    assert_trie_invariants([b"ab", b"a", None, b"b", b"ab", b"abc", b""], trie)


@pytest.mark.assets
def test_trie_invariants_on_llama3(asset_vocabulary) -> None:
    vocab = asset_vocabulary("llama3")
    assert vocab.size == 128256
    assert_trie_invariants(vocab.token_bytes, vocab.trie)


# --------------------------------------------------------------------------- from_tokenizer


@pytest.mark.assets
@pytest.mark.parametrize("name", VOCAB_NAMES)
def test_encoded_text_round_trips_through_token_bytes(name, asset_tokenizer, asset_vocabulary) -> None:
    tokenizer, vocab = asset_tokenizer(name), asset_vocabulary(name)
    prefix = dummy_prefix(vocab, tokenizer)
    assert prefix == (b" " if name in SENTENCEPIECE else b"")
    for text in TEXTS:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert joined(vocab, ids) == expected_bytes(text, prefix), text


@pytest.mark.assets
@pytest.mark.parametrize("name", VOCAB_NAMES)
def test_every_byte_is_a_token_and_specials_are_none(name, asset_tokenizer, asset_vocabulary) -> None:
    tokenizer, vocab = asset_tokenizer(name), asset_vocabulary(name)
    assert vocab.size == len(tokenizer)
    # byte-level alphabets and SentencePiece byte fallback both cover every single byte, so a
    # wrong character table would show up here
    singles = {b for b in vocab.token_bytes if b is not None and len(b) == 1}
    every_byte = {bytes((i,)) for i in range(256)}
    if name == "smollm2":
        # SmolLM2's BPE trainer only kept bytes it saw: C0, C1 and F5-FF never occur in UTF-8,
        # and a few control characters and rare lead bytes were missing from its corpus.
        assert len(every_byte - singles) == 21
        assert {bytes((i,)) for i in (9, 10, 13, *range(32, 127), *range(0x80, 0xC0))} <= singles
    else:
        assert singles == every_byte
    added = tokenizer.backend_tokenizer.get_added_tokens_decoder()
    for tid, tok in added.items():
        if tok.special:
            assert vocab.token_bytes[tid] is None, tok.content
        else:
            assert vocab.token_bytes[tid] == tok.content.encode(), tok.content
    assert {tokenizer.convert_ids_to_tokens(i) for i in vocab.eos_token_ids} == EXPECTED_EOS[name]
    assert all(vocab.token_bytes[i] is None for i in vocab.eos_token_ids)


@pytest.mark.assets
def test_sentencepiece_pieces_map_to_their_bytes(asset_tokenizer, asset_vocabulary) -> None:
    tokenizer, vocab = asset_tokenizer("llama2-spm"), asset_vocabulary("llama2-spm")
    piece = tokenizer.convert_tokens_to_ids
    assert vocab.token_bytes[piece("<0x0A>")] == b"\n"
    assert vocab.token_bytes[piece("<0xE2>")] == b"\xe2"
    assert vocab.token_bytes[piece("▁Hello")] == b" Hello"
    assert vocab.token_bytes[piece("▁▁")] == b"  "
    # USER_DEFINED pieces of Mistral v3 are non-special added tokens: text that encodes to them
    v3, v3_vocab = asset_tokenizer("mistral-v3-spm"), asset_vocabulary("mistral-v3-spm")
    ref = v3.convert_tokens_to_ids("[REFERENCE_DOC_0]")
    assert v3_vocab.token_bytes[ref] == b"[REFERENCE_DOC_0]"
    assert v3_vocab.token_bytes[v3.convert_tokens_to_ids("[INST]")] is None


@pytest.mark.assets
def test_qwen2_padding_tokens_are_not_text(asset_tokenizer, asset_vocabulary) -> None:
    vocab = asset_vocabulary("qwen2")
    assert vocab.size == 151936
    assert vocab.token_bytes[151646] is None and vocab.token_bytes[151935] is None
    # llama.cpp's [PAD<id>] fillers are dropped even where a tokenizer (like the GGUF's own
    # conversion) leaves them non-special
    state = json.loads(asset_tokenizer("qwen2").backend_tokenizer.to_str())
    for tok in state["added_tokens"]:
        tok["special"] = tok["content"] in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
    raw = Tokenizer.from_str(json.dumps(state))
    assert raw.id_to_token(151700) == "[PAD151700]"
    assert not raw.get_added_tokens_decoder()[151700].special
    assert Vocabulary.from_tokenizer(raw).token_bytes == vocab.token_bytes


@pytest.mark.assets
@pytest.mark.parametrize("name", ["qwen2", "smollm2"])
def test_bare_tokenizers_object(name, asset_tokenizer, asset_vocabulary) -> None:
    backend = asset_tokenizer(name).backend_tokenizer
    vocab = Vocabulary.from_tokenizer(backend)
    assert vocab.token_bytes == asset_vocabulary(name).token_bytes
    # no eos_token_id or chat template: every special end marker counts
    markers = {"qwen2": (151643, 151645), "smollm2": (0, 2)}
    assert vocab.eos_token_ids == markers[name]


@pytest.mark.assets
def test_size_pads_to_the_model_width_and_explicit_eos(asset_tokenizer) -> None:
    tokenizer = asset_tokenizer("gpt2")
    vocab = Vocabulary.from_tokenizer(tokenizer, size=50304, eos_token_ids=[50256, 198])
    assert vocab.size == 50304 and vocab.token_bytes[50257:] == (None,) * 47
    assert vocab.eos_token_ids == (198, 50256)
    with pytest.raises(VocabularyError, match="smaller than"):
        Vocabulary.from_tokenizer(tokenizer, size=1000)


@pytest.mark.assets
@pytest.mark.parametrize(("name", "stem"), GOLDEN)
def test_llamacpp_golden_ids_decode_to_the_text(name, stem, asset_tokenizer, asset_vocabulary, llamacpp_golden) -> None:
    """llama.cpp's expected ids, decoded through our token bytes, give back the input text.

    llama.cpp's SentencePiece tokenizer always adds the dummy-prefix space (as SentencePiece
    does, even before a leading space); our bytes keep it, so SPM texts come back with exactly
    one extra leading space. An empty text has no tokens.
    """
    tokenizer, vocab = asset_tokenizer(name), asset_vocabulary(name)
    prefix = dummy_prefix(vocab, tokenizer)
    cases = llamacpp_golden(stem)
    assert len(cases) >= 46
    for text, ids in cases:
        want = prefix + text.encode() if text else b""
        assert joined(vocab, ids) == want, repr(text)


# --------------------------------------------------------------------------- errors


def test_unsupported_tokenizer_type() -> None:
    with pytest.raises(VocabularyError, match="unsupported tokenizer type"):
        Vocabulary.from_tokenizer(object())


def test_empty_vocabulary() -> None:
    from tokenizers import Tokenizer, decoders, models

    tokenizer = Tokenizer(models.BPE())
    tokenizer.decoder = decoders.ByteLevel()
    with pytest.raises(VocabularyError, match="empty"):
        Vocabulary.from_tokenizer(tokenizer)


@pytest.mark.assets
def test_wordpiece_is_unsupported() -> None:
    """BERT's real WordPiece vocabulary (from llama.cpp's bert-bge GGUF) has no exact bytes."""
    gguf = pytest.importorskip("gguf")
    from tokenizers import Tokenizer, decoders, models

    from guidegen.assets import llamacpp_dir

    path = llamacpp_dir() / "ggml-vocab-bert-bge.gguf"
    if not path.is_file():
        pytest.skip(f"{path} is missing: run `make install`")
    tokens = gguf.GGUFReader(str(path)).fields["tokenizer.ggml.tokens"].contents()
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(tokens)}, unk_token="[UNK]"))
    tokenizer.decoder = decoders.WordPiece()
    with pytest.raises(VocabularyError, match="WordPiece"):
        Vocabulary.from_tokenizer(tokenizer)
