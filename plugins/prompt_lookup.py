"""Prompt-lookup drafting: copy the tokens that followed the latest n-gram's earlier occurrence."""

from __future__ import annotations

from guidegen.hookspecs import hookimpl
from guidegen.plugin_api import DraftContext, DraftProposer


class PromptLookupProposer(DraftProposer):
    """Proposes up to ``num_draft`` tokens by matching the last ``max_ngram`` .. ``min_ngram``
    tokens against the prompt and the text generated so far (Saxena 2023, "prompt lookup
    decoding"). Cheap, and very effective when the output quotes its input (extraction, editing,
    JSON built from the prompt's values)."""

    def __init__(self, num_draft: int = 8, max_ngram: int = 3, min_ngram: int = 1) -> None:
        if not 1 <= min_ngram <= max_ngram or num_draft < 1:
            raise ValueError("need 1 <= min_ngram <= max_ngram and num_draft >= 1")
        self.num_draft = num_draft
        self.max_ngram = max_ngram
        self.min_ngram = min_ngram

    def propose(self, ctx: DraftContext, max_tokens: int) -> list[int]:
        tokens = [*ctx.prompt_ids, *ctx.generated_ids]
        limit = min(self.num_draft, max_tokens)
        for n in range(self.max_ngram, self.min_ngram - 1, -1):
            if len(tokens) <= n:
                continue
            tail = tokens[-n:]
            # The most recent earlier occurrence predicts best.
            for start in range(len(tokens) - n - 1, -1, -1):
                if tokens[start : start + n] == tail:
                    follow = tokens[start + n : start + n + limit]
                    if follow:
                        return follow
        return []


@hookimpl
def guidegen_options():
    return {"prompt_lookup": "speculative decoding by prompt lookup: true, or the draft length (default 8)"}


@hookimpl
def guidegen_draft_proposers(request):
    setting = request.options.get("prompt_lookup")
    if not setting:
        return []
    num_draft = 8 if setting is True else int(setting)
    return [PromptLookupProposer(num_draft=num_draft)]
