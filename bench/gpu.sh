#!/usr/bin/env bash
# On a lent GPU machine: install what the GPU check needs (torch with CUDA comes with the machine), then run it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e . 2>/dev/null || python3 -m pip install -q -e .
PYTHONUNBUFFERED=1 python3 bench/gpu.py "$@"
