#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built (Ubuntu 22.04 base image).
# AUTOGRADER_ROOT, DLCOURSE_VENV and DLCOURSE_SKIP_SYSTEM=1 (skip apt) exist for testing.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${DLCOURSE_VENV:-/opt/dlcourse}"
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0
if [ "${DLCOURSE_SKIP_SYSTEM:-0}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq software-properties-common bubblewrap >/dev/null
  if ! command -v python3.11 >/dev/null; then
    add-apt-repository -y ppa:deadsnakes/ppa >/dev/null && apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  fi
fi
python3.11 -m venv "$VENV"
# The package: a checkout's source (pip builds it), or the wheel of an installed dlcourse.
PACKAGE="$ROOT/source/package"
for wheel in "$PACKAGE"/*.whl; do
  if [ -f "$wheel" ]; then PACKAGE="$wheel"; fi
done
"$VENV/bin/pip" install --quiet "$PACKAGE"
# Compute every reference now, into the cache run_autograder reads: the first student pays nothing extra.
DLCOURSE_SECRET="$(cat "$ROOT/source/secret")" DLCOURSE_CACHE="$ROOT/source/cache" \
  "$VENV/bin/dlcourse" gradescope warm --assignment {{ assignment | shell }}
