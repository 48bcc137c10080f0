#!/usr/bin/env bash
# On a lent GPU machine: install what the GPU check needs (torch with CUDA comes with the machine), then run it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e . 2>/dev/null || python3 -m pip install -q -e .
# runtime = "onnx" on the GPU needs the CUDA build of onnxruntime; without it the ONNX row says so
if ! python3 -c "import onnxruntime, sys; sys.exit('CUDAExecutionProvider' not in onnxruntime.get_available_providers())" 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check onnxruntime-gpu 2>/dev/null || echo "onnxruntime-gpu not installable here"
fi
PYTHONUNBUFFERED=1 python3 bench/gpu.py "$@"
