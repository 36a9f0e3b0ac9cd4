# Two commands do all the set-up: `make demo` and `make test`. Both are idempotent.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast test-slow test-jax release bench bench-batch install sandbox

install: $(STAMP) sandbox
	@$(BIN)/dlcourse warm >/dev/null  # public references cached: a student's first check() needs no Keras

# The venv is reinstalled only when the dependency pins change, and made again when it is broken.
$(STAMP): setup.cfg setup.py pyproject.toml scripts/venv.sh
	scripts/venv.sh $(VENV) $(PYTHON) test

# Debian's bubblewrap gives the grader its first-choice sandbox; without it grading uses the fallback level.
# shellcheck checks the Gradescope scripts in the tests.
sandbox:
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"; \
	command -v shellcheck >/dev/null 2>&1 || missing="$$missing shellcheck"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
	    sudo apt-get install -y -qq $$missing >/dev/null; \
	  else echo "WARNING: could not install $$missing: without bubblewrap grading uses the fallback isolation (see: dlcourse doctor)"; fi; }

demo: install
	$(BIN)/dlcourse grade examples/submissions --json results/demo.json

# Where `make` can install bubblewrap and shellcheck (root, apt), a missing one fails the tests that need it
# instead of skipping them.
REQUIRE_BWRAP := $(shell [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && echo 1)

test: install
	DLCOURSE_REQUIRE_BWRAP=$(REQUIRE_BWRAP) $(BIN)/python -m pytest

test-fast: install
	DLCOURSE_REQUIRE_BWRAP=$(REQUIRE_BWRAP) $(BIN)/python -m pytest -m "not slow"

test-slow: install
	$(BIN)/python -m pytest -m slow

# The reference suite and the solutions' grading on Keras's JAX backend, in a venv of its own.
JAX_VENV := .venv-jax
$(JAX_VENV)/.installed: setup.cfg setup.py pyproject.toml scripts/venv.sh
	scripts/venv.sh $(JAX_VENV) $(PYTHON) test,jax

test-jax: $(JAX_VENV)/.installed sandbox
	KERAS_BACKEND=jax $(JAX_VENV)/bin/python -m pytest -m backend

release: install
	$(BIN)/dlcourse release

# Each benchmark prints ratios against a reference measured in the same run, in interleaved rounds
# (benchmarks/_rounds.py: the median ratio with its spread; nothing is asserted).
bench: install
	for script in course grading isolation initializer_detection cnn lstm notebooks; do \
	  test ! -f benchmarks/$$script.py || $(BIN)/python benchmarks/$$script.py || exit 1; done

bench-batch: install
	$(BIN)/python benchmarks/batch.py
