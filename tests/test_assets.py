"""The offline asset builder/loader, and the fidelity of the tokenizers it builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidegen import assets
from guidegen.assets import VOCAB_NAMES, assets_dir, is_built, load_tokenizer, vocab_dir
from guidegen.errors import AssetError

SIZES = {
    "llama3": 128256,
    "qwen2": 151936,
    "gpt2": 50257,
    "smollm2": 49152,
    "llama2-spm": 32000,
    "mistral-spm": 32000,
    "mistral-v3-spm": 32768,
}

PLAIN_TEXTS = [
    "Hello, world!",
    "日本語のテキストと中文混合",
    "Ünïcödé — «ñ» ½ € ß",
    "emoji 🦙🚀 and a family 👩‍👩‍👧",
    '{"name": "Bob", "age": 42, "tags": ["a", "b\\n"]}',
    "Привет мир, γειά σου κόσμε, مرحبا بالعالم",
    "line one\nline two\ttabbed",
]


# --------------------------------------------------------------------------- locations and errors


def test_assets_dir_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GUIDEGEN_ASSETS", str(tmp_path))
    assert assets_dir() == tmp_path
    assert assets.llamacpp_dir() == tmp_path / "llamacpp"
    assert vocab_dir("gpt2") == tmp_path / "vocab" / "gpt2"
    monkeypatch.delenv("GUIDEGEN_ASSETS")
    assert assets_dir() == Path.home() / ".cache" / "guidegen"


def test_vocab_names() -> None:
    assert {"llama3", "qwen2", "gpt2", "smollm2", "llama2-spm", "mistral-spm"} <= set(VOCAB_NAMES)
    assert set(SIZES) == set(VOCAB_NAMES)


def test_unknown_vocabulary_lists_the_known_ones() -> None:
    with pytest.raises(AssetError) as info:
        load_tokenizer("gpt-5")
    for name in VOCAB_NAMES:
        assert name in str(info.value)


def test_missing_asset_says_how_to_build_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GUIDEGEN_ASSETS", str(tmp_path))
    with pytest.raises(AssetError, match="make install"):
        load_tokenizer("llama3")


def test_interrupted_build_leaves_no_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GUIDEGEN_ASSETS", str(tmp_path))
    target = vocab_dir("gpt2")

    def fail(out: Path) -> None:
        (out / "tokenizer.json").write_text("{}")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        assets._atomic_build(target, fail)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no temporary folder left either

    assets._atomic_build(target, lambda out: (out / "tokenizer.json").write_text("{}"))
    assert is_built(target) and (target / "tokenizer.json").read_text() == "{}"


@pytest.mark.assets
def test_build_skips_what_is_built(monkeypatch) -> None:
    missing = [n for n in VOCAB_NAMES if not is_built(vocab_dir(n))]
    if missing or not is_built(assets.llamacpp_dir()):
        pytest.skip(f"assets not fully built ({', '.join(missing) or 'llamacpp'}): run `make install`")

    def forbidden(*args, **kwargs):
        raise AssertionError("build() ran a step although everything is built")

    monkeypatch.setattr(assets.subprocess, "run", forbidden)
    monkeypatch.setattr(assets, "_atomic_build", forbidden)
    assets.build(with_model=is_built(assets._default_model_path()), progress=False)


# --------------------------------------------------------------------------- built tokenizers


@pytest.mark.assets
@pytest.mark.parametrize("name", VOCAB_NAMES)
def test_vocabulary_folder_loads(name, asset_tokenizer) -> None:
    tokenizer = asset_tokenizer(name)
    assert len(tokenizer) == SIZES[name]
    folder = vocab_dir(name)
    assert (folder / "tokenizer.json").is_file() and (folder / "tokenizer_config.json").is_file()
    assert tokenizer.eos_token_id is not None


@pytest.mark.assets
def test_llama3_special_tokens_and_template(asset_tokenizer) -> None:
    tokenizer = asset_tokenizer("llama3")
    ids = tokenizer.convert_tokens_to_ids
    assert ids("<|begin_of_text|>") == 128000
    assert ids("<|end_of_text|>") == 128001
    assert ids("<|eot_id|>") == 128009
    assert ids("<|reserved_special_token_250|>") == 128255
    # quicktok's own reference encoding (offline-assets note)
    assert tokenizer.encode("hello world", add_special_tokens=False) == [15339, 1917]
    assert tokenizer.encode("hello world") == [128000, 15339, 1917]
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert prompt == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


@pytest.mark.assets
@pytest.mark.parametrize(
    ("name", "stem"),
    [("gpt2", "ggml-vocab-gpt-2"), ("qwen2", "ggml-vocab-qwen2"), ("llama3", "ggml-vocab-llama-bpe"),
     ("llama2-spm", "ggml-vocab-llama-spm")],
)
def test_hf_encoding_matches_llamacpp_golden(name, stem, asset_tokenizer, llamacpp_golden) -> None:
    """Byte-level vocabularies match llama.cpp on every case (llama3 from quicktok included).

    Llama-2 SentencePiece matches except where the text starts with a space: SentencePiece
    (and llama.cpp) still add the dummy-prefix ``▁``, tokenizers' Metaspace does not.
    """
    tokenizer = asset_tokenizer(name)
    cases = llamacpp_golden(stem)
    compared = 0
    for text, ids in cases:
        if name == "llama2-spm" and text.startswith(" "):
            continue
        assert tokenizer.encode(text, add_special_tokens=False) == ids, repr(text)
        compared += 1
    assert compared >= (31 if name == "llama2-spm" else 46)


@pytest.mark.assets
@pytest.mark.parametrize(
    ("name", "model_file"),
    [("mistral-spm", "tokenizer.model.v1"), ("mistral-v3-spm", "mistral_instruct_tokenizer_240323.model.v3")],
)
def test_mistral_matches_sentencepiece(name, model_file, asset_tokenizer) -> None:
    """Same pieces and ids as sentencepiece itself, on text without leading/repeated spaces.

    (There HF's Metaspace differs from SentencePiece's whitespace handling, as it does for
    the Hub's own Llama/Mistral tokenizer.json files.)
    """
    spm = pytest.importorskip("sentencepiece")
    path = assets_dir() / "raw" / "mistral" / model_file
    if not path.is_file():
        pytest.skip(f"{path} is missing: run `make install`")
    tokenizer = asset_tokenizer(name)
    sp = spm.SentencePieceProcessor(model_file=str(path))
    pieces, model_type = assets._read_spm_model(path)
    assert model_type == 2  # BPE
    assert [p for p, _, _ in pieces] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert [kind == 3 for _, _, kind in pieces] == [sp.is_control(i) for i in range(sp.get_piece_size())]
    for text in PLAIN_TEXTS:
        assert tokenizer.encode(text, add_special_tokens=False) == sp.encode(text), text
    assert tokenizer.encode("Hello")[0] == sp.bos_id()


@pytest.mark.assets
def test_llamacpp_golden_pairs_are_complete() -> None:
    folder = assets.llamacpp_dir()
    if not is_built(folder):
        pytest.skip(f"{folder} is not built: run `make install`")
    for stem in ("ggml-vocab-gpt-2", "ggml-vocab-qwen2", "ggml-vocab-llama-spm", "ggml-vocab-llama-bpe"):
        for suffix in (".gguf", ".gguf.inp", ".gguf.out"):
            assert (folder / f"{stem}{suffix}").is_file(), stem + suffix


# --------------------------------------------------------------------------- default model


def _built_model_dir() -> Path:
    folder = assets._default_model_path()
    if not is_built(folder):
        pytest.skip(f"default model is not built in {folder}: run `make install`")
    return folder


@pytest.mark.assets
def test_default_model_folder() -> None:
    import json

    from transformers import AutoTokenizer

    folder = _built_model_dir()
    assert assets.default_model_dir(progress=False) == folder  # built: returned as is
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and config["vocab_size"] == 49152
    assert "quantization_config" not in config and config["dtype"] == "bfloat16"
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.eos_token == "<|im_end|>" and len(tokenizer) == 49152
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


@pytest.mark.assets
@pytest.mark.model
def test_default_model_answers() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = _built_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder))
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True, return_tensors="pt", return_dict=True,
    )
    out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :])
    assert "Paris" in answer
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
