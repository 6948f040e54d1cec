"""A tokenizer's vocabulary as byte strings, and the flat token trie the mask kernels walk.

Everything here is plain numpy so it pickles, hashes and caches on disk.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Sequence

import numpy as np

from .errors import VocabularyError


class TokenTrie(NamedTuple):
    """Byte trie of every non-special token, nodes in depth-first preorder, children sorted by byte.

    Node 0 is the root (empty prefix). The subtree of node ``i`` is ``i .. subtree_end[i]-1``, so a
    walk skips a dead prefix with ``i = subtree_end[i]``. The tokens whose bytes end exactly at node
    ``i`` are ``token_ids[token_start[i]:token_end[i]]`` (several ids may share the same bytes).
    """

    node_byte: np.ndarray  # uint8[n_nodes]; the root's entry is unused
    subtree_end: np.ndarray  # int32[n_nodes]
    token_start: np.ndarray  # int32[n_nodes]
    token_end: np.ndarray  # int32[n_nodes]
    token_ids: np.ndarray  # int32[n_trie_tokens]


def build_trie(token_bytes: Sequence[bytes | None]) -> TokenTrie:
    """Build the trie of all tokens that have byte content (special tokens, ``None``, are left out)."""
    entries = sorted(
        (b, tid) for tid, b in enumerate(token_bytes) if b is not None and len(b) > 0
    )
    node_byte = [0]
    subtree_end = [0]
    token_start = [0]
    token_end = [0]
    token_ids: list[int] = []
    path: list[int] = [0]  # node index at each depth of the current prefix
    prefix = b""
    for b, tid in entries:
        common = 0
        limit = min(len(prefix), len(b))
        while common < limit and prefix[common] == b[common]:
            common += 1
        for depth in range(len(prefix), common, -1):
            subtree_end[path[depth]] = len(node_byte)
        del path[common + 1 :]
        for depth in range(common, len(b)):
            path.append(len(node_byte))
            node_byte.append(b[depth])
            subtree_end.append(0)
            token_start.append(len(token_ids))
            token_end.append(len(token_ids))
        leaf = path[len(b)]
        if token_end[leaf] != len(token_ids):
            raise AssertionError("trie tokens must be appended in sorted order")
        token_ids.append(tid)
        token_end[leaf] += 1
        prefix = b
    for node in path:
        subtree_end[node] = len(node_byte)
    return TokenTrie(
        node_byte=np.asarray(node_byte, dtype=np.uint8),
        subtree_end=np.asarray(subtree_end, dtype=np.int32),
        token_start=np.asarray(token_start, dtype=np.int32),
        token_end=np.asarray(token_end, dtype=np.int32),
        token_ids=np.asarray(token_ids, dtype=np.int32),
    )


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Token id → bytes for one tokenizer, plus what a constraint needs to know about special tokens.

    ``token_bytes[i]`` is None for special/control tokens: a constraint never allows them, except
    the ids in ``eos_token_ids`` at an accepting state.
    """

    token_bytes: tuple[bytes | None, ...]
    eos_token_ids: tuple[int, ...]
    trie: TokenTrie = field(repr=False)
    fingerprint: str

    @property
    def size(self) -> int:
        return len(self.token_bytes)

    @property
    def bitmask_width(self) -> int:
        """Number of int32 words in one mask row."""
        return (self.size + 31) // 32

    @classmethod
    def from_token_bytes(
        cls, token_bytes: Sequence[bytes | None], eos_token_ids: Sequence[int]
    ) -> "Vocabulary":
        token_bytes = tuple(token_bytes)
        if not any(token_bytes):
            raise VocabularyError("the vocabulary is empty: no token has any bytes")
        eos = tuple(sorted(set(int(t) for t in eos_token_ids)))
        for t in eos:
            if not 0 <= t < len(token_bytes):
                raise VocabularyError(f"end-of-sequence id {t} is outside the vocabulary (size {len(token_bytes)})")
        digest = hashlib.sha256()
        for b in token_bytes:
            if b is None:
                digest.update(b"\xff\xff\xff\xff")
            else:
                digest.update(len(b).to_bytes(4, "little"))
                digest.update(b)
        digest.update(repr(eos).encode())
        return cls(token_bytes, eos, build_trie(token_bytes), digest.hexdigest()[:32])

    @classmethod
    def from_tokenizer(
        cls,
        tokenizer: Any,
        *,
        size: int | None = None,
        eos_token_ids: Sequence[int] | None = None,
    ) -> "Vocabulary":
        """Read the exact bytes of every token of a fast Hugging Face tokenizer.

        ``tokenizer`` is a fast ``PreTrainedTokenizerBase`` or a bare ``tokenizers.Tokenizer``.
        Ids run from 0 to the largest id the tokenizer knows; ``size`` pads the table with None
        up to a model's logits width, which is often larger than the tokenizer (Qwen2: 151,936
        rows for 151,665 tokens).

        Byte mapping, chosen from the tokenizer's decoder, never from its name:

        * byte-level BPE (GPT-2, Llama-3, Qwen, SmolLM2, Tekken): each character of the token
          string stands for one byte through GPT-2's byte-to-unicode table;
        * SentencePiece (Llama-2, Mistral, Phi-3; BPE or Unigram with a Metaspace/Replace
          decoder): ``▁`` is a space, and with byte fallback ``<0xNN>`` is that single byte. A
          leading ``▁`` is kept: the decoder strips the dummy-prefix space only at the start of
          a whole text, while a generated token carries it;
        * special added tokens, and llama.cpp's ``[PAD<id>]`` fillers, map to None; a non-special
          added token maps to the UTF-8 of its content, which is the text that encodes to it.

        End-of-sequence ids, unless ``eos_token_ids`` is given: the tokenizer's
        ``eos_token_id``, plus every special token that is a known end-of-turn marker
        (``<|eot_id|>``, ``<|im_end|>``, ``<|end|>``, ``<end_of_turn>``...) and appears in the
        chat template, since chat models stop on the marker their template closes a turn with.
        A bare ``tokenizers.Tokenizer`` has neither, so every special token that is a known end
        marker counts.
        """
        backend, hf = _backend_of(tokenizer)
        decoder = _decoder_spec(backend)
        vocab: dict[str, int] = backend.get_vocab(with_added_tokens=False)
        added = backend.get_added_tokens_decoder()
        n = max([-1, *vocab.values(), *added.keys()]) + 1
        if n == 0:
            raise VocabularyError("the tokenizer's vocabulary is empty")
        if size is not None:
            if size < n:
                raise VocabularyError(f"size {size} is smaller than the tokenizer's {n} token ids")
            n = size

        table: list[bytes | None] = [None] * n
        if decoder.kind == "byte_level":
            _fill_byte_level(table, vocab)
        else:
            _fill_sentencepiece(table, vocab, decoder.replacements, decoder.byte_fallback)
        for tid, tok in added.items():
            if tok.special or tok.content == f"[PAD{tid}]" or not tok.content:
                table[tid] = None
            else:
                table[tid] = tok.content.encode("utf-8")

        if eos_token_ids is None:
            eos_token_ids = _default_eos(hf, added)
        return cls.from_token_bytes(table, eos_token_ids)


# Special tokens chat models close a turn with; which one a model uses is read off its template.
END_OF_TURN_MARKERS = frozenset(
    {
        "</s>",
        "<eos>",
        "<|endoftext|>",
        "<|end_of_text|>",
        "<|eot_id|>",
        "<|eom_id|>",
        "<|im_end|>",
        "<|end|>",
        "<|return|>",
        "<end_of_turn>",
        "<|end_of_turn|>",
    }
)


def gpt2_bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character table (shared by every byte-level BPE)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# str.translate table that turns a byte-level token string into one latin-1 char per byte.
# Characters outside the alphabet map to U+0100, which latin-1 cannot encode, so a token that is
# not byte-level text fails the encode and takes the same fallback as tokenizers' decoder.
_BYTE_LEVEL_DECODE: dict[int, int] = {i: 0x100 for i in range(256)}
_BYTE_LEVEL_DECODE.update({ord(c): b for b, c in gpt2_bytes_to_unicode().items()})

_BYTE_FALLBACK_RE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


@dataclass(frozen=True)
class _DecoderSpec:
    kind: str  # "byte_level" | "sentencepiece"
    replacements: tuple[tuple[str, str], ...] = ()
    byte_fallback: bool = False


def _backend_of(tokenizer: Any) -> tuple[Any, Any]:
    """(the ``tokenizers.Tokenizer``, the HF wrapper or None)."""
    from tokenizers import Tokenizer

    if isinstance(tokenizer, Tokenizer):
        return tokenizer, None
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if isinstance(backend, Tokenizer):
        return backend, tokenizer
    raise VocabularyError(
        f"unsupported tokenizer type {type(tokenizer).__name__}: pass a fast Hugging Face tokenizer "
        "(AutoTokenizer.from_pretrained(..., use_fast=True)) or a tokenizers.Tokenizer"
    )


def _component_types(state: Any) -> list[dict[str, Any]]:
    """Flatten a serialized decoder/pre-tokenizer (``Sequence`` nests its parts)."""
    if not isinstance(state, dict):
        return []
    parts = state.get("decoders") or state.get("pretokenizers")
    if state.get("type") == "Sequence" and isinstance(parts, list):
        return [leaf for part in parts for leaf in _component_types(part)]
    return [state]


def _state(component: Any) -> Any:
    # The component's own JSON is small, unlike the whole tokenizer's (which holds every merge).
    return json.loads(component.__getstate__()) if component is not None else None


def _decoder_spec(backend: Any) -> _DecoderSpec:
    from tokenizers import models

    model = backend.model
    model_name = type(model).__name__
    if not isinstance(model, (models.BPE, models.Unigram)):
        raise VocabularyError(
            f"unsupported tokenizer model {model_name}: only byte-level BPE and SentencePiece "
            "(BPE or Unigram) tokenizers map tokens to exact bytes"
        )
    if isinstance(model, models.BPE) and (model.continuing_subword_prefix or model.end_of_word_suffix):
        raise VocabularyError(
            "unsupported BPE tokenizer: it marks word pieces with a prefix/suffix, so token "
            "strings are not the text they decode to"
        )
    decoders = _component_types(_state(backend.decoder))
    types = [d.get("type") for d in decoders]
    if "ByteLevel" in types:
        return _DecoderSpec("byte_level")
    replacements: list[tuple[str, str]] = []
    for d in decoders:
        if d.get("type") == "Metaspace":
            replacements.append((d.get("replacement", "\u2581"), " "))
        elif d.get("type") == "Replace" and "String" in (d.get("pattern") or {}):
            replacements.append((d["pattern"]["String"], d.get("content", "")))
    if any(new == " " for _, new in replacements):
        byte_fallback = "ByteFallback" in types or bool(getattr(model, "byte_fallback", False))
        return _DecoderSpec("sentencepiece", tuple(replacements), byte_fallback)
    if not decoders:
        pre = [p.get("type") for p in _component_types(_state(backend.pre_tokenizer))]
        if "ByteLevel" in pre:
            return _DecoderSpec("byte_level")
    raise VocabularyError(
        f"unsupported tokenizer: its decoder ({', '.join(map(str, types)) or 'none'}) is neither "
        "byte-level nor SentencePiece, so token bytes cannot be recovered exactly"
    )


def _fill_byte_level(table: list[bytes | None], vocab: dict[str, int]) -> None:
    decode = _BYTE_LEVEL_DECODE
    for tok, tid in vocab.items():
        try:
            table[tid] = tok.translate(decode).encode("latin-1")
        except UnicodeEncodeError:
            table[tid] = tok.encode("utf-8")


def _fill_sentencepiece(
    table: list[bytes | None],
    vocab: dict[str, int],
    replacements: tuple[tuple[str, str], ...],
    byte_fallback: bool,
) -> None:
    fallback = _BYTE_FALLBACK_RE.fullmatch if byte_fallback else None
    for tok, tid in vocab.items():
        if fallback is not None and len(tok) == 6 and (m := fallback(tok)):
            table[tid] = bytes((int(m.group(1), 16),))
            continue
        for old, new in replacements:
            tok = tok.replace(old, new)
        table[tid] = tok.encode("utf-8")


def _default_eos(hf: Any, added: dict[int, Any]) -> list[int]:
    markers = {tid: tok.content for tid, tok in added.items() if tok.special and tok.content in END_OF_TURN_MARKERS}
    if hf is None:
        return sorted(markers)
    eos: set[int] = set()
    eos_id = getattr(hf, "eos_token_id", None)
    if isinstance(eos_id, int):
        eos.add(eos_id)
    elif isinstance(eos_id, (list, tuple)):
        eos.update(int(t) for t in eos_id)
    template = getattr(hf, "chat_template", None)
    if isinstance(template, dict):
        template = "\n".join(str(t) for t in template.values())
    if isinstance(template, str):
        eos.update(tid for tid, content in markers.items() if content in template)
    return sorted(eos)
