"""MaskBench-protocol mask benchmark: guidegen vs llguidance and XGrammar on JSONSchemaBench files.

The same as ``guidegen bench masks`` (the logic lives in :mod:`guidegen.bench`)::

    .venv/bin/python bench/masks.py --data ../shared/data/jsonschemabench/maskbench/data \\
        --subset Github_easy --limit 50 --vocab llama3 --json /tmp/easy.json

The anchors come with ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import sys

from guidegen.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "masks", *sys.argv[1:]]))
