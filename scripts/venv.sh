#!/usr/bin/env bash
# Create (or repair) a virtual environment and install this package into it, editable.
#   scripts/venv.sh VENV PYTHON EXTRAS      e.g.  scripts/venv.sh .venv python3.11 test
# A venv whose pip does not run (a `python -m venv` that failed half-way) is removed and made again.
# On Debian/Ubuntu, where `venv` is a separate package, python3-venv is installed first when root.
set -euo pipefail
venv="$1" python="$2" extras="$3"

if ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python${version}-venv" >/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "error: '$python -m venv' failed; install your distribution's python${version}-venv package" >&2
      exit 1
    fi
    "$python" -m venv "$venv"
  fi
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[$extras]"
touch "$venv/.installed"
