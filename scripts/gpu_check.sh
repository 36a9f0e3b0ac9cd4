#!/usr/bin/env bash
# The references and a full grading of the solutions on an NVIDIA GPU, against the CPU, in under 5 minutes.
#   scripts/gpu_check.sh jax     (or torch)
# Needs no network: install beforehand, from wheels you bring (see README, "On a GPU"):
#   python -m venv .venv-gpu && .venv-gpu/bin/pip install --no-index --find-links WHEELS -e '.[jax]' 'jax[cuda12]'
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-jax}"
python="${PYTHON:-$(ls .venv-gpu/bin/python .venv-$backend/bin/python .venv/bin/python 2>/dev/null | head -n 1)}"
export KERAS_BACKEND="$backend" JAX_ENABLE_X64=1 TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
exec timeout 300 "$python" scripts/gpu_check.py --backend "$backend" "${@:2}"
