"""An example third-party guidegen plugin, published the way any plugin is: a distribution with an
entry point in the ``guidegen`` group. It adds one request option, ``banned_words``."""

from __future__ import annotations

import torch

import guidegen


class BannedWords(guidegen.LogitsProcessor):
    """Masks every token that spells one of ``words`` (ignoring case and surrounding spaces)."""

    def __init__(self, words: list[str], vocab: guidegen.Vocabulary) -> None:
        wanted = {w.strip().lower() for w in words}
        ids = [
            i for i, b in enumerate(vocab.token_bytes)
            if b is not None and b.decode("utf-8", "ignore").strip().lower() in wanted
        ]
        if not ids:
            raise ValueError(f"none of {sorted(wanted)} is a token of this vocabulary")
        self.banned = torch.tensor(ids)

    def __call__(self, ctx: guidegen.RowContext, logits: torch.Tensor) -> torch.Tensor:
        logits[:, self.banned.to(logits.device)] = float("-inf")
        return logits


@guidegen.hookimpl
def guidegen_options():
    return {"banned_words": "words the output must never contain as a token"}


@guidegen.hookimpl
def guidegen_logits_processors(request, model):
    words = request.options.get("banned_words")
    return [BannedWords(words, model.vocab)] if words else []
