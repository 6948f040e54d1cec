"""Shared fixtures. Tests that need the offline assets (``make install``) are marked ``assets``
and skip, naming what is missing, when the asset folder lacks them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import pytest

LLAMACPP_SEPARATOR = "\n__ggml_vocab_test__\n"


@functools.lru_cache(maxsize=None)
def _tokenizer(name: str) -> Any:
    from guidegen.assets import load_tokenizer

    return load_tokenizer(name)


@functools.lru_cache(maxsize=None)
def _vocabulary(name: str) -> Any:
    from guidegen.vocab import Vocabulary

    return Vocabulary.from_tokenizer(_tokenizer(name))


def _require_vocab(name: str) -> None:
    from guidegen.assets import is_built, vocab_dir

    if not is_built(vocab_dir(name)):
        pytest.skip(f"vocabulary {name!r} is not built in {vocab_dir(name)}: run `make install`")


@pytest.fixture(scope="session")
def asset_tokenizer() -> Callable[[str], Any]:
    """``asset_tokenizer(name)``: the built HF tokenizer (shared by the session: do not mutate)."""

    def get(name: str) -> Any:
        _require_vocab(name)
        return _tokenizer(name)

    return get


@pytest.fixture(scope="session")
def asset_vocabulary() -> Callable[[str], Any]:
    """``asset_vocabulary(name)``: ``Vocabulary.from_tokenizer`` of a built tokenizer, cached."""

    def get(name: str) -> Any:
        _require_vocab(name)
        return _vocabulary(name)

    return get


@pytest.fixture(scope="session")
def llamacpp_golden() -> Callable[[str], list[tuple[str, list[int]]]]:
    """``llamacpp_golden("ggml-vocab-gpt-2")``: llama.cpp's (text, expected ids) test pairs.

    ``.gguf.inp`` holds the texts, each followed by the separator line; ``.gguf.out`` one line
    of space-separated ids per text.
    """

    def get(stem: str) -> list[tuple[str, list[int]]]:
        from guidegen.assets import llamacpp_dir

        inp: Path = llamacpp_dir() / f"{stem}.gguf.inp"
        out: Path = llamacpp_dir() / f"{stem}.gguf.out"
        if not (inp.is_file() and out.is_file()):
            pytest.skip(f"llama.cpp golden pair {stem} is not in {llamacpp_dir()}: run `make install`")
        texts = inp.read_text(encoding="utf-8").split(LLAMACPP_SEPARATOR)
        assert texts[-1] == "", f"{inp.name} does not end with the separator"
        texts = texts[:-1]
        lines = out.read_text(encoding="utf-8").split("\n")[: len(texts)]
        assert len(lines) == len(texts), f"{out.name} has {len(lines)} lines for {len(texts)} texts"
        return [(text, [int(t) for t in line.split()]) for text, line in zip(texts, lines)]

    return get


@pytest.fixture(scope="session")
def model() -> Any:
    """The embedded default model (SmolLM2-135M-Instruct), loaded once per session (and converted
    from its GGUF first if `make install` has not done it)."""
    from guidegen.model import load_model

    return load_model()
