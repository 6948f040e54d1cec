"""A ``transformers.LogitsProcessor`` so ``model.generate()`` users get guidegen constraints."""

from __future__ import annotations

from typing import Any

import torch
from transformers import LogitsProcessor

from .constraint import Constraint, ConstraintState
from .masks import allocate_bitmask, apply_bitmask_
from .vocab import Vocabulary


class GuidegenLogitsProcessor(LogitsProcessor):
    """Constrains Hugging Face ``generate()`` to a regex or JSON Schema.

    Each row's constraint state is found from its token prefix, so batches, beam search (rows are
    reordered between steps) and reuse of one processor across ``generate()`` calls all work.
    Rows that already ended (EOS, then padding) are left unconstrained; ``generate`` pads them.

    Example::

        processor = GuidegenLogitsProcessor(tokenizer=tok, schema={"type": "integer"})
        out = model.generate(**inputs, logits_processor=[processor], max_new_tokens=10)
    """

    def __init__(
        self,
        constraint: Constraint | None = None,
        *,
        tokenizer: Any = None,
        schema: Any = None,
        regex: str | None = None,
        **options: Any,
    ) -> None:
        if constraint is None:
            if tokenizer is None:
                raise ValueError("pass a compiled constraint, or tokenizer= with schema= or regex=")
            from . import compile_constraint

            constraint = compile_constraint(Vocabulary.from_tokenizer(tokenizer), schema=schema, regex=regex, **options)
        self.constraint = constraint
        self._states: dict[tuple[int, ...], ConstraintState | None] = {}
        self._last_len = -1

    def _state_for(self, row: tuple[int, ...]) -> ConstraintState | None:
        if row in self._states:
            return self._states[row]
        parent = self._states.get(row[:-1], "new")
        if parent == "new":
            return self.constraint.new_state()  # a prompt: a new generation starts here
        if parent is None:
            return None
        state = parent.fork()
        return state if state.advance(row[-1]) else None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[1] != self._last_len + 1:
            self._states = {}  # a new generate() call
        self._last_len = input_ids.shape[1]
        rows = [tuple(r) for r in input_ids.tolist()]
        states = {row: self._state_for(row) for row in rows}
        bitmask = allocate_bitmask(len(rows), self.constraint.vocab.size)
        for i, row in enumerate(rows):
            state = states[row]
            if state is None:
                bitmask[i] = -1
            else:
                state.fill_mask(bitmask[i])
        self._states = states
        apply_bitmask_(scores, bitmask)
        return scores
