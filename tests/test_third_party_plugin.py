"""A third-party plugin distribution, installed into its own venv, is discovered and used."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "plugin_example"


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory) -> Path:
    """A fresh venv that sees guidegen's environment and has the example plugin pip-installed."""
    venv = tmp_path_factory.mktemp("plugin-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # Layer the test venv over guidegen's (processing its .pth files, so the editable install works).
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "guidegen_parent_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    # Build the wheel with our setuptools (no network), then install it like any published plugin.
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(EXAMPLE)],
        check=True,
    )
    (wheel,) = wheels.glob("guidegen_banned_words-*.whl")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True)
    return venv


def test_plugin_is_discovered_with_its_distribution(plugin_venv):
    out = subprocess.run(
        [str(plugin_venv / "bin" / "python"), "-m", "guidegen.cli", "plugins", "--json"], check=True, capture_output=True, text=True
    ).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["banned_words"] == {
        "name": "banned_words",
        "hooks": ["guidegen_logits_processors", "guidegen_options"],
        "source": "entry point",
        "distribution": "guidegen-banned-words",
    }
    assert rows["constraints"]["source"] == "builtin"


@pytest.mark.model
def test_plugin_changes_generation(plugin_venv):
    def run(*extra):
        proc = subprocess.run(
            [str(plugin_venv / "bin" / "python"), "-m", "guidegen.cli", "generate", "--json", "--quiet", "--max-tokens", "12",
             *extra, "What is the capital of France? Answer in one sentence."],
            capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["text"]

    assert "Paris" in run()
    assert "Paris" not in run("--options", json.dumps({"banned_words": ["Paris"]}))
