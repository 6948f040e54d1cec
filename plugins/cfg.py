"""Classifier-free guidance with a negative prompt (Sanchez et al., arXiv 2306.17806)."""

from __future__ import annotations

from typing import Sequence

import torch

from guidegen.hookspecs import hookimpl
from guidegen.plugin_api import LogitsProcessor, RowContext


class ClassifierFreeGuidance(LogitsProcessor):
    """Pushes the distribution away from what a negative prompt would produce.

    ``scores = log p(x | negative) + scale * (log p(x | prompt) - log p(x | negative))``; a scale of
    1 leaves the model unchanged, larger values follow the prompt more and the negative prompt less.
    The negative prompt runs beside the sequence as an auxiliary prompt fed the same tokens.

    Example::

        guidegen.generate("Write a tweet about cats", negative_prompt="Write something rude",
                          guidance_scale=1.5)
    """

    def __init__(self, negative_prompt_ids: Sequence[int], scale: float) -> None:
        if scale <= 0:
            raise ValueError(f"guidance_scale must be > 0, got {scale}")
        self.auxiliary_prompts = {"negative": list(negative_prompt_ids)}
        self.scale = scale

    def __call__(self, ctx: RowContext, logits: torch.Tensor) -> torch.Tensor:
        cond = torch.log_softmax(logits, dim=-1)
        uncond = torch.log_softmax(ctx.aux_logits["negative"], dim=-1)
        return uncond + self.scale * (cond - uncond)


@hookimpl
def guidegen_options():
    return {
        "negative_prompt": "text (or chat messages) the output should move away from (classifier-free guidance)",
        "guidance_scale": "classifier-free guidance strength, default 1.5 (1 = no guidance)",
    }


@hookimpl
def guidegen_logits_processors(request, model):
    options = request.options
    if "negative_prompt" not in options and "guidance_scale" not in options:
        return []
    negative = model.encode_prompt(options.get("negative_prompt", ""), request.chat)
    return [ClassifierFreeGuidance(negative, float(options.get("guidance_scale", 1.5)))]
