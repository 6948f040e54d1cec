"""Fast-forward: draft the bytes a constraint forces, tokenized the way the tokenizer would."""

from __future__ import annotations

from guidegen.hookspecs import hookimpl
from guidegen.plugin_api import DraftContext, DraftProposer


class ForcedTokensProposer(DraftProposer):
    """When the constraint leaves only one way forward for the next bytes (a JSON key, ``":"``,
    a closing brace), propose them as draft tokens. The loop verifies the whole draft in one
    forward pass, so forced text costs one pass instead of one per token, and the output stays
    exactly what token-by-token decoding would give.

    The draft is the tokenizer's own (canonical) tokenization of the forced text, joined to the
    last generated token when the tokenizer keeps that boundary, and minus its final token unless
    the constraint ends right there: that token could merge with free text that follows.
    """

    def propose(self, ctx: DraftContext, max_tokens: int) -> list[int]:
        state = ctx.constraint_state
        if state is None:
            return []
        forced = state.forced_bytes()
        text = forced.decode("utf-8", errors="ignore")
        if not text:
            return []
        forced = text.encode()
        vocab = ctx.model.vocab
        draft = self._tokenize_after(ctx, text)
        if b"".join(vocab.token_bytes[t] or b"\0" for t in draft) != forced:
            return []
        probe = state.fork()
        for token in draft:
            if not probe.advance(token):
                return []
        if not probe.is_finished():
            draft = draft[:-1]
        return draft[:max_tokens]

    @staticmethod
    def _tokenize_after(ctx: DraftContext, text: str) -> list[int]:
        vocab, tokenizer = ctx.model.vocab, ctx.model.tokenizer
        last = ctx.generated_ids[-1] if ctx.generated_ids else None
        last_bytes = vocab.token_bytes[last] if last is not None else None
        if last_bytes:
            try:
                joined = tokenizer.encode(last_bytes.decode("utf-8") + text, add_special_tokens=False)
            except UnicodeDecodeError:
                joined = []
            if joined and vocab.token_bytes[joined[0]] == last_bytes:
                return list(joined[1:])
        return list(tokenizer.encode(text, add_special_tokens=False))


@hookimpl
def guidegen_options():
    return {"fast_forward": "draft the tokens a constraint forces (default true when constrained)"}


@hookimpl
def guidegen_draft_proposers(request):
    if not request.constraint or request.options.get("fast_forward", True) is False:
        return []
    return [ForcedTokensProposer()]
