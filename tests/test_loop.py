"""The token loop end to end on the real default model (SmolLM2-135M-Instruct)."""

from __future__ import annotations

import re

import pytest
import torch

import guidegen
from guidegen import Host, hookimpl
from guidegen.plugin_api import Flag, LogitsProcessor, Monitor, Rollback, Stop

pytestmark = pytest.mark.model

CAPITAL = "What is the capital of France? Answer in one sentence."


def greedy(model, prompt, host=None, **kwargs):
    return guidegen.generate(prompt, model=model, host=host, **kwargs)


def test_greedy_matches_transformers_generate(model):
    ids = model.encode_prompt(CAPITAL)
    expected = model.model.generate(
        torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        max_new_tokens=12, do_sample=False,
    )[0, len(ids):].tolist()
    result = greedy(model, CAPITAL, max_tokens=12)
    assert result.token_ids == [t for t in expected if t not in model.vocab.eos_token_ids][:12]
    assert "Paris" in result.text
    assert result.stats.forward_passes == len(result.token_ids) + (result.finish_reason == "eos")


def test_ragged_batch_rows_match_single_requests(model):
    requests = [
        guidegen.make_request(CAPITAL, max_tokens=10),
        guidegen.make_request("Count from one to five in words:", regex=r"[a-z]+(, [a-z]+){2,6}\.", max_tokens=20),
        guidegen.make_request("Name a colour.", regex="(red|green|blue|yellow)", max_tokens=5),
    ]
    batched = guidegen.generate_batch(requests, model=model)
    single = [guidegen.generate_batch([r], model=model)[0] for r in requests]
    for b, s in zip(batched, single):
        assert b.token_ids == s.token_ids
    assert re.fullmatch(r"[a-z]+(, [a-z]+){2,6}\.", batched[1].text)
    assert batched[2].text in {"red", "green", "blue", "yellow"}
    assert batched[2].finish_reason == "constraint"
    assert batched[2].value == batched[2].text


def test_regex_constraint_and_value(model):
    result = greedy(model, "What year did the Berlin wall fall? Reply with the year.", regex=r"(19|20)[0-9]{2}")
    assert re.fullmatch(r"(19|20)[0-9]{2}", result.text)
    assert result.finish_reason == "constraint"


def test_schema_constraint_returns_parsed_value(model):
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer", "minimum": 0, "maximum": 120}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    prompt = "Invent a person with a name and an age, as JSON."
    result = greedy(model, prompt, schema=schema, max_tokens=40)
    assert isinstance(result.value, dict) and set(result.value) == {"name", "age"}
    assert 0 <= result.value["age"] <= 120
    # Fast-forward (on by default) drafts the forced bytes: same tokens, fewer forward passes.
    step_by_step = greedy(model, prompt, schema=schema, max_tokens=40, fast_forward=False)
    assert step_by_step.token_ids == result.token_ids
    assert result.stats.accepted_draft_tokens > 0
    assert result.stats.forward_passes < step_by_step.stats.forward_passes


QUOTE = "Repeat this sentence exactly: The quick brown fox jumps over the lazy dog near the river bank."


def test_prompt_lookup_is_lossless_and_saves_forward_passes(model):
    plain = greedy(model, QUOTE, max_tokens=24)
    drafted = greedy(model, QUOTE, max_tokens=24, prompt_lookup=True)
    assert drafted.token_ids == plain.token_ids
    assert drafted.stats.accepted_draft_tokens > 0
    assert drafted.stats.forward_passes < plain.stats.forward_passes


class _Recorder(LogitsProcessor):
    def __init__(self):
        self.calls = []

    def __call__(self, ctx, logits):
        assert logits.shape[0] == len(ctx.draft_ids) + 1
        self.calls.append((list(ctx.generated_ids), list(ctx.draft_ids), logits.shape[0]))
        return logits


class _RecorderPlugin:
    def __init__(self):
        self.recorder = _Recorder()

    @hookimpl
    def guidegen_logits_processors(self):
        return [self.recorder]


def test_processors_and_constraint_run_at_every_draft_position(model):
    plugin = _RecorderPlugin()
    host = Host([plugin])
    pattern = r"The quick brown fox jumps over the lazy dog[a-z .]*"
    plain = greedy(model, QUOTE, regex=pattern, max_tokens=20)
    drafted = greedy(model, QUOTE, regex=pattern, max_tokens=20, prompt_lookup=True, host=host)
    assert drafted.token_ids == plain.token_ids
    assert re.fullmatch(pattern, drafted.text)
    assert any(positions > 1 for _, _, positions in plugin.recorder.calls)


def test_classifier_free_guidance_reads_aligned_auxiliary_logits(model):
    prompt = "Write one sentence about the sea."
    plain = greedy(model, prompt, max_tokens=16)
    neutral = greedy(model, prompt, max_tokens=16, negative_prompt="Write about cats.", guidance_scale=1.0)
    # scale 1 reduces to the conditional log-probabilities: exactly the unguided greedy path.
    assert neutral.token_ids == plain.token_ids
    guided = greedy(model, prompt, max_tokens=16, negative_prompt="Describe a vast, mysterious ocean.", guidance_scale=3.0)
    assert guided.token_ids != plain.token_ids


class _AuxCheck(LogitsProcessor):
    """Compares the auxiliary logits with a fresh forward pass of the same tokens."""

    def __init__(self, model, aux_ids):
        self.model = model
        self.auxiliary_prompts = {"aux": aux_ids}
        self.errors = []

    def __call__(self, ctx, logits):
        ids = list(self.auxiliary_prompts["aux"]) + list(ctx.generated_ids) + list(ctx.draft_ids)
        with torch.inference_mode():
            ref = self.model.model(torch.tensor([ids])).logits[0, -logits.shape[0]:].float()
        self.errors.append(float((ref - ctx.aux_logits["aux"]).abs().max()))
        return logits


def test_auxiliary_prompt_logits_equal_a_fresh_forward(model):
    check = _AuxCheck(model, model.encode_prompt("Tell me about dogs."))

    class Plugin:
        @hookimpl
        def guidegen_logits_processors(self):
            return [check]

    greedy(model, QUOTE, max_tokens=8, prompt_lookup=True, host=Host([Plugin()]))
    assert len(check.errors) >= 2 and max(check.errors) < 1e-3


class _ScriptedMonitor(Monitor):
    max_rollback = 4

    def __init__(self):
        self.rolled = False
        self.first_try = None

    def observe(self, ctx):
        if len(ctx.generated_ids) >= 6 and not self.rolled:
            self.rolled = True
            self.first_try = list(ctx.generated_ids)
            return Rollback(3, ban=(ctx.generated_ids[3],), reason="scripted")
        if len(ctx.generated_ids) == 7:
            return Flag("seven tokens")
        if len(ctx.generated_ids) >= 9:
            return Stop("enough")
        return None


def test_monitor_rollback_ban_flag_and_stop(model):
    monitor = _ScriptedMonitor()

    class Plugin:
        @hookimpl
        def guidegen_monitors(self):
            return [monitor]

    result = greedy(model, CAPITAL, max_tokens=30, host=Host([Plugin()]))
    assert result.token_ids[:3] == monitor.first_try[:3]
    assert result.token_ids[3] != monitor.first_try[3]
    assert result.finish_reason == "monitor"
    assert len(result.token_ids) == 9
    assert result.stats.rollbacks == 1
    assert any("rolled back 3" in f for f in result.flags) and "seven tokens" in result.flags


def test_repetition_monitor_stops_a_loop(model):
    prompt = "Write the word hello twenty times separated by spaces."
    looping = greedy(model, prompt, max_tokens=40)
    assert looping.finish_reason == "length"
    stopped = greedy(model, prompt, max_tokens=40, repetition={"max_repeats": 4, "action": "stop"})
    assert stopped.finish_reason == "monitor"
    assert len(stopped.token_ids) < 40


def test_stop_strings_eos_and_max_tokens(model):
    full = greedy(model, CAPITAL, max_tokens=40)
    assert full.finish_reason == "eos"
    stopped = greedy(model, CAPITAL, max_tokens=40, stop=["Paris"])
    assert stopped.finish_reason == "stop" and "Paris" not in stopped.text
    assert full.text.startswith(stopped.text)
    short = greedy(model, CAPITAL, max_tokens=3)
    assert short.finish_reason == "length" and len(short.token_ids) == 3


def test_seeded_sampling_is_reproducible(model):
    kwargs = dict(max_tokens=12, temperature=1.0, top_p=0.95, min_p=0.02)
    a = greedy(model, "Tell me a story.", seed=7, **kwargs)
    b = greedy(model, "Tell me a story.", seed=7, **kwargs)
    c = greedy(model, "Tell me a story.", seed=8, **kwargs)
    assert a.token_ids == b.token_ids
    assert a.token_ids != c.token_ids
    # The seed belongs to the sequence: batch neighbours do not change its draws.
    batch = guidegen.generate_batch(
        [guidegen.make_request("Tell me a story.", seed=7, **kwargs), guidegen.make_request(CAPITAL, max_tokens=5)],
        model=model,
    )
    assert batch[0].token_ids == a.token_ids
    top1 = greedy(model, CAPITAL, max_tokens=8, temperature=0.7, top_k=1, seed=1)
    assert top1.token_ids == greedy(model, CAPITAL, max_tokens=8).token_ids


def test_streaming_deltas_concatenate_to_the_result(model):
    deltas = list(guidegen.stream(CAPITAL, model=model, max_tokens=20, stop=["."]))
    result = greedy(model, CAPITAL, max_tokens=20, stop=["."])
    assert len(deltas) > 1
    assert "".join(deltas) == result.text


class _Broken(LogitsProcessor):
    def __call__(self, ctx, logits):
        raise RuntimeError("kaput")


def test_failing_processor_names_its_plugin(model):
    class Plugin:
        @hookimpl
        def guidegen_logits_processors(self):
            return [_Broken()]

    with pytest.raises(guidegen.PluginError, match=r"test_loop\._Broken'.*kaput"):
        greedy(model, CAPITAL, max_tokens=2, host=Host([Plugin()]))
