#!/usr/bin/env bash
# The GPU benchmark as one prepared script: install what is missing (on a lent GPU machine: nlpbot and the CUDA
# build of onnxruntime; torch with CUDA comes with the machine), then print bench/gpu.py's table.
#   bash bench/gpu.sh                    # on the GPU
#   bash bench/gpu.sh --device cpu ...   # the same path on a CPU (CI checks it this way, on tiny sizes)
# PYTHON names the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c "import bot.core, sentence_transformers, onnxruntime" 2>/dev/null; then
  "$PY" -m pip install -q --disable-pip-version-check -e .
fi
case " $* " in
  *" --device cpu "*|*" --device=cpu "*) ;;
  *)  # runtime = "onnx" on the GPU needs onnxruntime's CUDA provider; without it the ONNX row says so
    if ! "$PY" -c "import onnxruntime, sys; sys.exit('CUDAExecutionProvider' not in onnxruntime.get_available_providers())" 2>/dev/null; then
      "$PY" -m pip install -q --disable-pip-version-check onnxruntime-gpu 2>/dev/null || echo "onnxruntime-gpu is not installable here" >&2
    fi ;;
esac
PYTHONUNBUFFERED=1 exec "$PY" bench/gpu.py "$@"
