"""The transformers LogitsProcessor adapter and the command line, on the real default model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from guidegen import cli
from guidegen.hf import GuidegenLogitsProcessor

pytestmark = pytest.mark.model

YEAR = r"(19|20)[0-9]{2}"


def _generate(model, processor, prompts, **kwargs):
    tok = model.tokenizer
    tok.padding_side = "left"
    texts = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True, tokenize=False) for p in prompts]
    enc = tok(texts, return_tensors="pt", padding=True)
    out = model.model.generate(**enc, logits_processor=[processor], max_new_tokens=8, do_sample=False,
                               pad_token_id=tok.pad_token_id or tok.eos_token_id, **kwargs)
    return [tok.decode(row[enc.input_ids.shape[1]:], skip_special_tokens=True) for row in out]


def test_hf_adapter_constrains_generate_batches_and_is_reusable(model):
    processor = GuidegenLogitsProcessor(tokenizer=model.tokenizer, regex=YEAR)
    first = _generate(model, processor, ["When did World War II end?", "When was the first iPhone released?"])
    assert all(re.fullmatch(YEAR, t) for t in first), first
    again = _generate(model, processor, ["When did the Berlin wall fall?"])
    assert re.fullmatch(YEAR, again[0]), again


def test_hf_adapter_with_beam_search(model):
    processor = GuidegenLogitsProcessor(tokenizer=model.tokenizer, regex="(yes|no)")
    out = _generate(model, processor, ["Is Paris in France? Answer yes or no."], num_beams=3)
    assert out[0] in ("yes", "no")


def test_cli_generate_json(model, capsys):
    code = cli.main(["generate", "--regex", YEAR, "--json", "--quiet", "When did the Berlin wall fall?"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert {"text", "value", "tokens", "stats"} <= set(out)
    assert re.fullmatch(YEAR, out["text"]) and out["value"] == out["text"]
    assert out["tokens"] == len(out["token_ids"]) and out["stats"]["compile_s"] >= 0


def test_cli_generate_schema_file(model, capsys, tmp_path):
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": False}))
    assert cli.main(["generate", "--schema", str(schema), "--json", "--quiet", "Is water wet? Answer as JSON."]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["value"]["ok"], bool)


def test_cli_generate_with_a_lark_grammar(model, capsys):
    from guidegen.automata.pushdown import Grammar
    from guidegen.grammar.lark import lark_to_rules

    path = Path(__file__).resolve().parents[1] / "grammars" / "arithmetic.lark"
    assert cli.main(["generate", "--grammar", str(path), "--json", "--quiet", "--max-tokens", "24",
                     "Write an arithmetic expression that equals 10."]) == 0
    out = json.loads(capsys.readouterr().out)
    grammar = Grammar.from_regexes(lark_to_rules(path.read_text()))
    assert grammar.step(grammar.start(), out["text"].encode()), out["text"]  # a prefix at least (token budget)
    if out["finish_reason"] in ("eos", "constraint"):
        assert grammar.matches(out["text"])


def test_cli_errors_are_clear(capsys, tmp_path):
    assert cli.main(["generate", "--schema", str(tmp_path / "missing.json"), "hi"]) == 2
    assert "cannot read schema file" in capsys.readouterr().err
    assert cli.main(["generate", "--model", str(tmp_path), "hi"]) == 2
    assert "not a local model folder" in capsys.readouterr().err


def test_cli_plugins_json(capsys):
    assert cli.main(["plugins", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["constraints"]["source"] == "builtin"
    assert rows["constraints"]["hooks"] == ["guidegen_constraint_compilers"]


def test_cli_generate_with_a_local_model_folder(capsys):
    from guidegen.assets import default_model_dir

    folder = str(default_model_dir(progress=False))
    assert cli.main(["generate", "--model", folder, "--regex", "(yes|no)", "--json", "--quiet", "Is the sky blue?"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] in ("yes", "no")
