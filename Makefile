# recueil: `make build` then `make test` from a fresh clone (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-libraries

.PHONY: install bytecode build test lint bench clean-build

install: $(STAMP) $(SYSTEM_STAMP)

# WeasyPrint needs Pango; libharfbuzz-subset0 makes font subsetting ~2.7x faster and is absent
# from a fresh Debian 12. Install what is missing (as root, or through sudo).
$(SYSTEM_STAMP): scripts/system-libraries.sh
	@mkdir -p $(VENV)
	@sh scripts/system-libraries.sh
	@touch $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Python caches compiled modules itself, unless PYTHONDONTWRITEBYTECODE is set (some CI and
# sandboxes set it): then every command compiled recueil's 46 modules again (~0.2 s). pip
# compiles installed packages; this does the same for the editable source. Quick when current.
bytecode: install
	$(BIN)/python -m compileall -q src

build: install bytecode
	$(BIN)/recueil build --project .

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean-build: install
	$(BIN)/recueil clean --project .

# Side-by-side benchmark against a one-pass WeasyPrint rendering; writes bench/RESULTS.md.
bench: install bytecode
	$(BIN)/python bench/run.py $(SIZES)
