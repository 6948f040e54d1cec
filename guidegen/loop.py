"""The token loop.

prefill → repeat { proposers draft tokens → one forward pass over pending + draft tokens of
every sequence → processors rewrite the logits at every position → the constraint masks them →
accept (greedy / sampling / lossless speculative verification) → commit → constraint advances,
rejected drafts roll back → monitors may stop, flag or roll back }.

The whole batch shares one KV cache. Each row owns a set of cache columns, recorded in an
attention mask: padding, rejected draft tokens and rolled-back tokens are not removed from the
middle of the cache, they are masked out (and cropped when they sit at the end for every row).
That makes ragged batches, speculative verification and rollback one mechanism.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, TypeVar

import torch

from .constraint import Constraint, ConstraintState
from .errors import GuidegenError, PluginError
from .host import Host, default_host
from .masks import allocate_bitmask, apply_bitmask_
from .model import LoadedModel, crop_cache
from .plugin_api import (
    DraftContext,
    DraftProposer,
    Flag,
    LogitsProcessor,
    Monitor,
    MonitorContext,
    Rollback,
    RowContext,
    StepReport,
    Stop,
)
from .request import GenerationRequest, GenerationResult, GenerationStats
from .sampling import make_generator, verify_draft

T = TypeVar("T")

MAX_ROLLBACKS = 64
"""Monitors may roll a sequence back at most this many times before it is stopped."""


@dataclass(eq=False)
class _CacheRow:
    """One row of the shared KV cache: the tokens whose keys it holds, at which columns, and the
    committed tokens still waiting to be fed."""

    fed: list[int]
    cols: list[int]
    pending: list[int]

    def sync(self, full: list[int], mask: torch.Tensor, row: int) -> None:
        """Make ``fed + pending == full``: keep the longest fed prefix that agrees with ``full``
        (always leaving the last token pending, since its logits are what comes next) and mask
        the columns of everything else."""
        keep = 0
        limit = min(len(self.fed), len(full) - 1)
        while keep < limit and self.fed[keep] == full[keep]:
            keep += 1
        if keep < len(self.cols):
            mask[row, self.cols[keep:]] = 0
        del self.fed[keep:], self.cols[keep:]
        self.pending = list(full[keep:])


@dataclass(eq=False)
class _Aux:
    """An auxiliary prompt that follows a sequence's generated tokens (e.g. a negative prompt)."""

    processor: LogitsProcessor
    name: str
    prompt_ids: list[int]
    cache_row: _CacheRow


@dataclass(eq=False)
class _Sequence:
    index: int
    request: GenerationRequest
    prompt_ids: list[int]
    constraint: Constraint | None
    state: ConstraintState | None
    processors: list[LogitsProcessor]
    monitors: list[Monitor]
    proposers: list[DraftProposer]
    generator: torch.Generator | None
    cache_row: _CacheRow
    aux: list[_Aux]
    stats: GenerationStats
    generated: list[int] = field(default_factory=list)
    bans: dict[int, set[int]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    stop_text_end: int | None = None
    draft: list[int] = field(default_factory=list)

    @property
    def full(self) -> list[int]:
        return self.prompt_ids + self.generated

    @property
    def max_rollback(self) -> int:
        return max((m.max_rollback for m in self.monitors), default=0)


@dataclass
class StepEvent:
    """What the loop reports after each step for one sequence (drives streaming)."""

    index: int
    generated: Sequence[int]
    finished: bool
    holdback: int


class TokenLoop:
    """Runs a batch of requests to completion. Iterate :meth:`events` for streaming, or call
    :meth:`run` for the results."""

    def __init__(self, model: LoadedModel, requests: Sequence[GenerationRequest], host: Host | None = None) -> None:
        if not requests:
            raise ValueError("no requests to generate")
        self.model = model
        self.host = host or default_host()
        self.requests = list(requests)
        self.results: list[GenerationResult | None] = [None] * len(requests)
        self.sequences: list[_Sequence] = []
        for index, request in enumerate(self.requests):
            self.sequences.append(self._make_sequence(index, request))
        # Batch rows: every sequence, then the auxiliary prompts of each.
        self._rows: list[_CacheRow] = []
        self._cache = model.new_cache()
        self._mask = torch.zeros((0, 0), dtype=torch.long, device=model.device)

    def _make_sequence(self, index: int, request: GenerationRequest) -> _Sequence:
        host, model = self.host, self.model
        host.validate(request)
        stats = GenerationStats()
        start = time.perf_counter()
        constraint = host.compile_constraint(request, model.vocab)
        stats.compile_s = time.perf_counter() - start
        prompt_ids = model.encode_prompt(request.prompt, request.chat)
        stats.prompt_tokens = len(prompt_ids)
        processors = host.processors(request, model)
        aux = [
            _Aux(proc, name, [int(t) for t in ids], _CacheRow([], [], [int(t) for t in ids]))
            for proc in processors
            for name, ids in proc.auxiliary_prompts.items()
        ]
        for a in aux:
            if not a.prompt_ids:
                raise PluginError(_name(a.processor), f"auxiliary prompt {a.name!r} is empty")
        return _Sequence(
            index=index,
            request=request,
            prompt_ids=prompt_ids,
            constraint=constraint,
            state=constraint.new_state() if constraint is not None else None,
            processors=processors,
            monitors=host.monitors(request, model),
            proposers=host.draft_proposers(request, model),
            generator=make_generator(request.sampling, model.device),
            cache_row=_CacheRow([], [], list(prompt_ids)),
            aux=aux,
            stats=stats,
        )

    # -- public ----------------------------------------------------------------------------------

    def run(self) -> list[GenerationResult]:
        for _ in self.events():
            pass
        return [r for r in self.results if r is not None]

    def events(self) -> Iterator[StepEvent]:
        self.host.notify("guidegen_generation_start", requests=self.requests, model=self.model)
        active = list(self.sequences)
        step = 0
        while active:
            self._step(active, step)
            step += 1
            for seq in active:
                if seq.finish_reason is not None:
                    self.results[seq.index] = self._result(seq)
            for seq in active:
                yield StepEvent(seq.index, list(seq.generated), seq.finish_reason is not None, seq.max_rollback)
            active = [s for s in active if s.finish_reason is None]
        self.host.notify("guidegen_generation_end", requests=self.requests, results=self.results)

    # -- one step --------------------------------------------------------------------------------

    @torch.inference_mode()
    def _step(self, active: list[_Sequence], step: int) -> None:
        for seq in active:
            seq.draft = self._propose(seq)
        rows: list[tuple[_CacheRow, list[int]]] = []
        for seq in active:
            rows.append((seq.cache_row, seq.cache_row.pending + seq.draft))
        for seq in active:
            for a in seq.aux:
                rows.append((a.cache_row, a.cache_row.pending + seq.draft))
        self._select_rows([r for r, _ in rows])

        start = time.perf_counter()
        logits = self._forward(rows)
        elapsed = time.perf_counter() - start
        prefill = step == 0
        for seq in active:
            seq.stats.forward_passes += 1
            if prefill:
                seq.stats.prefill_s += elapsed
            else:
                seq.stats.decode_s += elapsed

        n_seq = len(active)
        offsets = [len(inputs) - len(seq.draft) - 1 for seq, (_, inputs) in zip(active, rows)]
        aux_offsets = iter(range(n_seq, len(rows)))
        width = max(len(seq.draft) for seq in active) + 1
        processed = torch.full((n_seq, width, logits.shape[-1]), float("-inf"), dtype=torch.float32, device=logits.device)
        for i, seq in enumerate(active):
            positions = len(seq.draft) + 1
            rows_i = logits[i, offsets[i] : offsets[i] + positions].float()
            aux_logits = {}
            for a in seq.aux:
                j = next(aux_offsets)
                off = len(rows[j][1]) - len(seq.draft) - 1
                aux_logits[a.name] = logits[j, off : off + positions].float()
            rows_i = self._process(seq, rows_i, aux_logits)
            processed[i, :positions] = rows_i

        start = time.perf_counter()
        self._apply_constraints(active, processed)
        mask_s = time.perf_counter() - start
        for i, seq in enumerate(active):
            self._apply_bans(seq, processed[i])

        for i, seq in enumerate(active):
            seq.stats.mask_s += mask_s / n_seq
            positions = len(seq.draft) + 1
            n_accepted, bonus = verify_draft(processed[i, :positions], seq.draft, seq.request.sampling, seq.generator)
            seq.stats.drafted_tokens += len(seq.draft)
            seq.stats.accepted_draft_tokens += n_accepted
            new_ids = seq.draft[:n_accepted] + [bonus]
            committed = self._commit(seq, new_ids)
            if committed:
                self._observe(seq, committed, processed[i, : len(committed)])
            self.host.notify(
                "guidegen_generation_step",
                report=StepReport(step, seq.index, seq.request, committed, len(seq.draft), n_accepted),
            )
        for r, seq in enumerate(active):
            seq.cache_row.sync(seq.full, self._mask, r)
        r = n_seq
        for seq in active:
            for a in seq.aux:
                a.cache_row.sync(a.prompt_ids + seq.generated, self._mask, r)
                r += 1
        self._crop_tail()

    def _propose(self, seq: _Sequence) -> list[int]:
        budget = seq.request.max_tokens - len(seq.generated) - 1
        if not seq.proposers or budget <= 0:
            return []
        ctx = DraftContext(
            seq.request, self.model, seq.prompt_ids, seq.generated,
            seq.state.fork() if seq.state is not None else None,
        )
        for proposer in seq.proposers:
            draft = [int(t) for t in _call_plugin(proposer, proposer.propose, ctx, budget)][:budget]
            if draft:
                break
        else:
            return []
        if seq.state is not None:
            # A draft token the constraint forbids would be rejected anyway: cut the draft there.
            valid = 0
            for token in draft:
                if not seq.state.advance(token):
                    break
                valid += 1
            seq.state.rollback(valid)
            draft = draft[:valid]
        return draft

    def _select_rows(self, wanted: list[_CacheRow]) -> None:
        """Shrink the batch to the rows still in use, in ``wanted`` order (finished rows leave)."""
        if wanted == self._rows:
            return
        keep = [self._rows.index(r) for r in wanted if r in self._rows]
        if len(keep) != len(self._rows) or keep != list(range(len(keep))):
            index = torch.tensor(keep, dtype=torch.long, device=self._mask.device)
            if self._cache.get_seq_length() > 0:
                self._cache.batch_select_indices(index)
            self._mask = self._mask[index]
        new = [r for r in wanted if r not in self._rows]
        if new:
            pad = torch.zeros((len(new), self._mask.shape[1]), dtype=self._mask.dtype, device=self._mask.device)
            if self._cache.get_seq_length() > 0:
                raise GuidegenError("rows can only join the batch before the first forward pass")
            self._mask = torch.cat([self._mask, pad])
        self._rows = [r for r in wanted]

    def _forward(self, rows: list[tuple[_CacheRow, list[int]]]) -> torch.Tensor:
        device = self.model.device
        width = max(len(inputs) for _, inputs in rows)
        base = self._mask.shape[1]
        input_ids = torch.full((len(rows), width), self.model.pad_id, dtype=torch.long)
        positions = torch.zeros((len(rows), width), dtype=torch.long)
        new_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (row, inputs) in enumerate(rows):
            n = len(inputs)
            input_ids[r, :n] = torch.tensor(inputs)
            positions[r, :n] = torch.arange(len(row.fed), len(row.fed) + n)
            new_mask[r, :n] = 1
            row.fed.extend(inputs)
            row.cols.extend(range(base, base + n))
            row.pending = []
        self._mask = torch.cat([self._mask, new_mask.to(device)], dim=1)
        return self.model.forward(input_ids.to(device), self._mask, positions.to(device), self._cache)

    def _crop_tail(self) -> None:
        used = self._mask.any(dim=0).nonzero()
        last = int(used[-1]) + 1 if len(used) else 0
        extra = self._mask.shape[1] - last
        if extra > 0:
            crop_cache(self._cache, extra)
            self._mask = self._mask[:, :last]

    def _process(self, seq: _Sequence, logits: torch.Tensor, aux_logits: dict[str, torch.Tensor]) -> torch.Tensor:
        if not seq.processors:
            return logits
        ctx = RowContext(seq.request, self.model, seq.prompt_ids, seq.generated, seq.draft)
        for proc in seq.processors:
            ctx.aux_logits = {a.name: aux_logits[a.name] for a in seq.aux if a.processor is proc}
            out = _call_plugin(proc, proc, ctx, logits)
            if not isinstance(out, torch.Tensor) or out.shape != logits.shape:
                raise PluginError(_name(proc), f"logits processor must return a tensor of shape {tuple(logits.shape)}")
            logits = out
        return logits

    def _apply_bans(self, seq: _Sequence, rows: torch.Tensor) -> None:
        """Forbid tokens a monitor banned at a position, unless that would leave no token at all
        (the constraint may force exactly the banned token)."""
        for p in range(len(seq.draft) + 1):
            banned = seq.bans.get(len(seq.generated) + p)
            if banned:
                candidate = rows[p].clone()
                candidate[list(banned)] = float("-inf")
                if bool(torch.isneginf(candidate).all()):
                    seq.flags.append(f"ban of {sorted(banned)} ignored: the constraint allows nothing else")
                else:
                    rows[p] = candidate

    def _apply_constraints(self, active: list[_Sequence], processed: torch.Tensor) -> None:
        if all(seq.state is None for seq in active):
            return
        vocab = self.model.vocab
        bitmask = allocate_bitmask(len(active) * processed.shape[1], vocab.size).reshape(
            len(active), processed.shape[1], -1
        )
        for i, seq in enumerate(active):
            if seq.state is None:
                bitmask[i] = -1
                continue
            for p in range(len(seq.draft) + 1):
                seq.state.fill_mask(bitmask[i, p])
                if p < len(seq.draft):
                    seq.state.advance(seq.draft[p])
            seq.state.rollback(len(seq.draft))
        apply_bitmask_(processed, bitmask)
        for i, seq in enumerate(active):
            if seq.state is not None and bool(torch.isneginf(processed[i, 0]).all()):
                raise GuidegenError(
                    f"request {seq.index}: the constraint allows no token of this vocabulary after "
                    f"{len(seq.generated)} generated tokens (the bytes it requires cannot be tokenized)"
                )

    # -- committing ------------------------------------------------------------------------------

    def _commit(self, seq: _Sequence, new_ids: list[int]) -> list[int]:
        """Append accepted tokens, stopping at EOS, max_tokens, a finished constraint or a stop string."""
        committed = []
        eos = set(self.model.vocab.eos_token_ids)
        for token in new_ids:
            if token in eos:
                seq.finish_reason = "eos"
                break
            if seq.state is not None and not seq.state.advance(token):
                raise GuidegenError(f"internal error: the constraint rejected token {token} that its mask allowed")
            seq.generated.append(token)
            committed.append(token)
            if len(seq.generated) >= seq.request.max_tokens:
                seq.finish_reason = "length"
                break
            if seq.state is not None and seq.state.is_finished():
                seq.finish_reason = "constraint"
                break
        seq.stats.generated_tokens = len(seq.generated)
        if seq.request.stop and committed:
            self._check_stop_strings(seq)
        return committed

    def _check_stop_strings(self, seq: _Sequence) -> None:
        text = self.model.decode(seq.generated)
        hits = [i for i in (text.find(s) for s in seq.request.stop) if i >= 0]
        if hits:
            seq.stop_text_end = min(hits)
            seq.finish_reason = "stop"

    def _observe(self, seq: _Sequence, committed: list[int], logits: torch.Tensor) -> None:
        for monitor in seq.monitors:
            ctx = MonitorContext(seq.request, self.model, seq.prompt_ids, seq.generated, committed, logits)
            action = _call_plugin(monitor, monitor.observe, ctx)
            if action is None:
                continue
            if isinstance(action, Flag):
                seq.flags.append(action.message)
            elif isinstance(action, Stop):
                seq.flags.append(f"stopped: {action.reason}")
                seq.finish_reason = "monitor"
                return
            elif isinstance(action, Rollback):
                self._rollback(seq, monitor, action)
                return
            else:
                raise PluginError(_name(monitor), f"observe returned {action!r}, not a monitor action")

    def _rollback(self, seq: _Sequence, monitor: Monitor, action: Rollback) -> None:
        n = action.n_tokens
        if not 0 < n <= min(monitor.max_rollback, len(seq.generated)):
            raise PluginError(
                _name(monitor),
                f"rollback of {n} tokens exceeds its max_rollback={monitor.max_rollback} or the {len(seq.generated)} generated",
            )
        seq.stats.rollbacks += 1
        if seq.stats.rollbacks > MAX_ROLLBACKS:
            seq.flags.append(f"stopped: more than {MAX_ROLLBACKS} rollbacks")
            seq.finish_reason = "monitor"
            return
        if seq.state is not None:
            seq.state.rollback(n)
        del seq.generated[-n:]
        seq.stats.generated_tokens = len(seq.generated)
        seq.bans = {k: v for k, v in seq.bans.items() if k < len(seq.generated)}
        seq.bans.setdefault(len(seq.generated), set()).update(action.ban)
        seq.flags.append(f"rolled back {n} tokens: {action.reason}" if action.reason else f"rolled back {n} tokens")
        seq.finish_reason = None
        seq.stop_text_end = None

    def _result(self, seq: _Sequence) -> GenerationResult:
        text = self.model.decode(seq.generated)
        if seq.stop_text_end is not None:
            text = text[: seq.stop_text_end]
        value = None
        complete = seq.state is not None and seq.state.is_accepting()
        if seq.constraint is not None and complete:
            value = seq.constraint.parse(text)
        return GenerationResult(text, list(seq.generated), seq.finish_reason or "length", value, seq.stats, seq.flags)


def _name(component: object) -> str:
    """A plugin component's qualified class name: it tells the user which plugin to look at."""
    cls = type(component)
    return f"{cls.__module__}.{cls.__qualname__}"


def _call_plugin(component: object, fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    except GuidegenError:
        raise
    except Exception as exc:
        raise PluginError(_name(component), f"raised {exc!r}") from exc


def generate_batch(
    model: LoadedModel, requests: Sequence[GenerationRequest], host: Host | None = None
) -> list[GenerationResult]:
    """Generate every request in one batch; results come back in request order."""
    return TokenLoop(model, requests, host).run()
