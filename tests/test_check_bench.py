"""`guidegen check`, `guidegen bench masks` and `guidegen bench grammar` on real vocabularies,
JSONSchemaBench files and the shipped Lark grammars."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from guidegen import bench as bench_module
from guidegen import cli

pytestmark = pytest.mark.assets

VOCAB = "smollm2"
MASKBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jsonschemabench" / "maskbench" / "data"
# small schemas with one valid and one invalid instance each
SMALL = ("Github_trivial---o67198.json", "Github_trivial---o89088.json", "Github_trivial---o76869.json")
YEAR = r"(19|20)[0-9]{2}"
GRAMMARS = Path(__file__).resolve().parents[1] / "grammars"


@pytest.fixture(scope="module")
def vocab_ready(asset_tokenizer):
    asset_tokenizer(VOCAB)  # skips, naming what is missing, when `make install` has not built it
    return VOCAB


@pytest.fixture(scope="module")
def small_files():
    missing = [f for f in SMALL if not (MASKBENCH / f).is_file()]
    if missing:
        pytest.skip(f"JSONSchemaBench files not found in {MASKBENCH}: {missing}")
    return [MASKBENCH / f for f in SMALL]


def _run(capsys, argv):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_regex_accepts_and_rejects_with_location(vocab_ready, capsys, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("1989\n")  # one trailing newline is not part of the text
    bad = tmp_path / "bad.txt"
    bad.write_text("1989 or so")
    short = tmp_path / "short.txt"
    short.write_text("19")
    code, out, _ = _run(capsys, ["check", "--regex", YEAR, "--vocab", VOCAB, "--json", str(good), str(bad), str(short)])
    assert code == 1  # some input rejected
    report = json.loads(out)
    by_name = {r["input"]: r for r in report["results"]}
    assert set(by_name) == {str(good), str(bad), str(short)}
    r = by_name[str(good)]
    assert r["accepted"] and r["error"] is None
    assert r["mask_us"]["count"] == r["tokens"] + 1 and r["mask_us"]["max"] >= r["mask_us"]["p50"] > 0
    r = by_name[str(bad)]
    assert not r["accepted"] and r["error"]
    # the first token that leaves the language starts at byte 4 (" or")
    assert r["failed_byte_offset"] == 4
    assert r["failed_token_text"].startswith(" ")
    assert 0 < r["failed_token_index"] < r["tokens"]
    r = by_name[str(short)]
    assert not r["accepted"] and "before the constraint is complete" in r["error"]
    assert (report["accepted"], report["rejected"]) == (1, 2)

    code, out, _ = _run(capsys, ["check", "--regex", YEAR, "--vocab", VOCAB, str(good)])
    assert code == 0 and out.startswith("ACCEPTED") and "p50" in out

    code, _, _ = _run(capsys, ["check", "--regex", YEAR, "--vocab", VOCAB, "--exact", str(good)])
    assert code == 1  # with --exact the newline is checked too


def test_check_schema_from_jsonschemabench(vocab_ready, small_files, capsys, tmp_path):
    source = json.loads(small_files[0].read_text())  # integer retryLimit >= 1, required
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(source["schema"]))
    inputs = []
    for i, test in enumerate(source["tests"]):
        p = tmp_path / f"{'valid' if test['valid'] else 'invalid'}{i}.json"
        p.write_text(json.dumps(test["data"], separators=(",", ":")))
        inputs.append((p, test["valid"]))
    assert {v for _, v in inputs} == {True, False}
    code, out, _ = _run(capsys, ["check", "--schema", str(schema), "--vocab", VOCAB, "--json", *(str(p) for p, _ in inputs)])
    assert code == 1
    results = {r["input"]: r for r in json.loads(out)["results"]}
    for p, valid in inputs:
        assert results[str(p)]["accepted"] is valid, results[str(p)]
        if not valid:
            assert results[str(p)]["failed_token_index"] is not None


def test_check_cli_errors_are_clear(vocab_ready, capsys, tmp_path):
    good = tmp_path / "x.txt"
    good.write_text("1999")
    code, _, err = _run(capsys, ["check", "--regex", YEAR, "--vocab", "no-such-vocab", str(good)])
    assert code == 2 and "unknown vocabulary 'no-such-vocab'" in err and "llama3" in err
    code, _, err = _run(capsys, ["check", "--regex", YEAR, "--vocab", VOCAB, str(tmp_path / "missing.txt")])
    assert code == 2 and "cannot read input file" in err and "missing.txt" in err
    code, _, err = _run(capsys, ["check", "--schema", str(tmp_path / "nope.json"), "--vocab", VOCAB, str(good)])
    assert code == 2 and "cannot read schema file" in err
    code, _, err = _run(capsys, ["check", "--vocab", VOCAB, str(good)])
    assert code == 2 and "--schema" in err and "--regex" in err
    code, _, err = _run(capsys, ["check", "--regex", "(a", "--vocab", VOCAB, str(good)])
    assert code == 2 and err.startswith("guidegen: error:")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def test_bench_masks_json_shape(vocab_ready, small_files, capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for f in small_files:
        shutil.copy(f, data / f.name)
    engines = ["guidegen"] + [e for e in ("llguidance", "xgrammar") if _installed(e)]
    out_json = tmp_path / "out.json"
    code, out, _ = _run(capsys, ["bench", "masks", "--data", str(data), "--vocab", VOCAB, "--limit", "3",
                                 "--engines", ",".join(engines), "--json", str(out_json), "--quiet", "--by-subset"])
    assert code == 0
    assert "guidegen" in out and "mask µs" in out
    result = json.loads(out_json.read_text())
    assert list(result) == engines
    for r in result.values():
        assert {"schemas", "compile_errors", "valid_rejected", "invalid_accepted", "mask_us", "ttfm_ms"} <= set(r)
        assert set(r["mask_us"]) == {"avg", "p50", "p90", "p99", "max"}
        assert set(r["ttfm_ms"]) == {"p50", "p99"}
        assert r["schemas"] == 3
        if r["compile_errors"] < 3:
            assert r["mask_us"]["p50"] > 0 and r["mask_us"]["max"] >= r["mask_us"]["p99"] >= r["mask_us"]["p50"]
            assert r["ttfm_ms"]["p99"] >= r["ttfm_ms"]["p50"] > 0
    g = result["guidegen"]
    assert g["compile_errors"] == 0 and g["invalid_accepted"] == 0 and g["valid_rejected"] == 0
    assert g["valid_tested"] == 3 and g["invalid_tested"] == 3
    assert {"valid_rejected", "invalid_accepted", "mask_us"} <= set(g["common"])
    assert sum(r["schemas"] for r in g["by_subset"].values()) == 3
    for subset in g["by_subset"]:
        assert f"| {subset} | guidegen | " in out
    assert bench_module.subset_of("Github_easy---o1.json") == "Github_easy"
    assert bench_module.subset_of("BFCL_parallel_multiple_12.json") == "BFCL_parallel_multiple"
    for anchor in engines[1:]:
        assert f"guidegen vs {anchor} (schemas every engine compiled" in out and f"guidegen ÷ {anchor}" in out


def test_bench_cli_errors_are_clear(vocab_ready, small_files, capsys, tmp_path, monkeypatch):
    code, _, err = _run(capsys, ["bench", "masks", "--data", str(small_files[0]), "--engines", "guidegen,foo", "--quiet"])
    assert code == 2 and "unknown engine 'foo'" in err and "llguidance" in err
    code, _, err = _run(capsys, ["bench", "masks", "--data", str(tmp_path / "nowhere"), "--engines", "guidegen", "--quiet"])
    assert code == 2 and "no such file or folder" in err
    code, _, err = _run(capsys, ["bench", "masks", "--data", str(small_files[0]), "--engines", "guidegen",
                                 "--vocab", "no-such-vocab", "--quiet"])
    assert code == 2 and "unknown vocabulary 'no-such-vocab'" in err
    code, _, err = _run(capsys, ["bench", "masks", "--data", str(small_files[0].parent), "--subset", "NoSuchSubset",
                                 "--engines", "guidegen", "--quiet"])
    assert code == 2 and "NoSuchSubset" in err

    import guidegen.bench as bench

    real = importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda n, *a: None if n == "xgrammar" else real(n, *a))
    code, _, err = _run(capsys, ["bench", "masks", "--data", str(small_files[0]), "--engines", "guidegen,xgrammar", "--quiet"])
    assert code == 2 and "needs the xgrammar package" in err and "guidegen[bench]" in err


def test_check_grammar_accepts_and_rejects(vocab_ready, capsys, tmp_path):
    inputs = {"ok1.txt": "2 * (x + 3.5e-2) ^ 2 - max(a, -b) / 4\n", "ok2.txt": "1+2", "bad.txt": "1 + * 2"}
    for name, text in inputs.items():
        (tmp_path / name).write_text(text)
    code, out, _ = _run(capsys, ["check", "--grammar", str(GRAMMARS / "arithmetic.lark"), "--vocab", VOCAB, "--json",
                                 *(str(tmp_path / n) for n in inputs)])
    assert code == 1
    report = json.loads(out)
    assert report["constraint"]["kind"] == "grammar"
    by_name = {Path(r["input"]).name: r for r in report["results"]}
    assert by_name["ok1.txt"]["accepted"] and by_name["ok2.txt"]["accepted"]
    assert not by_name["bad.txt"]["accepted"] and "not allowed" in by_name["bad.txt"]["error"]
    code, _, err = _run(capsys, ["check", "--grammar", str(tmp_path / "none.lark"), "--vocab", VOCAB, str(tmp_path / "ok2.txt")])
    assert code == 2 and "cannot read grammar file" in err
    # a shipped grammar by name, as an installed package has no grammars/ folder to point at
    code, out, _ = _run(capsys, ["check", "--grammar", "arithmetic", "--vocab", VOCAB, "--json", str(tmp_path / "ok2.txt")])
    assert code == 0 and json.loads(out)["results"][0]["accepted"]
    bad = tmp_path / "bad.lark"
    bad.write_text("start: undefined_rule\n")
    code, _, err = _run(capsys, ["check", "--grammar", str(bad), "--vocab", VOCAB, str(tmp_path / "ok2.txt")])
    assert code == 2 and "undefined_rule" in err


def test_bench_grammar_json_shape(vocab_ready, capsys, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for i, value in enumerate([{"a": [1, 2.5, None]}, ["x", {"y": True}], "plain"]):
        (inputs / f"{i}.json").write_text(json.dumps(value, indent=2))
    engines = ["guidegen"] + [e for e in ("llguidance", "xgrammar") if _installed(e)]
    out_json = tmp_path / "out.json"
    code, out, _ = _run(capsys, ["bench", "grammar", "--grammar", str(GRAMMARS / "json.lark"), "--inputs", str(inputs),
                                 "--vocab", VOCAB, "--engines", ",".join(engines), "--json", str(out_json), "--quiet"])
    assert code == 0 and "mask µs" in out
    result = json.loads(out_json.read_text())
    g = result["guidegen"]
    assert {"schemas", "compile_errors", "valid_rejected", "invalid_accepted", "mask_us", "ttfm_ms"} <= set(g)
    assert g["compile_errors"] == 0 and g["valid_rejected"] == 0 and g["valid_tested"] == 3
    assert g["mask_us"]["p50"] > 0 and g["ttfm_ms"]["p50"] > 0
    code, _, err = _run(capsys, ["bench", "grammar", "--grammar", str(GRAMMARS / "json.lark"), "--inputs",
                                 str(tmp_path / "nowhere"), "--engines", "guidegen", "--quiet"])
    assert code == 2 and "no such file or folder" in err


def test_anchors_are_not_imported_by_guidegen():
    code = (
        "import sys, guidegen, guidegen.cli, guidegen.bench, guidegen.check; "
        "bad = [m for m in ('llguidance', 'xgrammar') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
