# claimwire: `make build` builds the release, `make test` runs the whole suite.
# Both create their own virtual environments; nothing needs to be installed by hand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Label Studio pins its own dependencies (pyarrow<25, Django): it gets its own venv.
LS_VENV ?= $(or $(CLAIMWIRE_LS_VENV),.ls-venv)
LS_VERSION := 1.23.2
VERSION ?= 1.0.1

export CLAIMWIRE_LS_VENV := $(abspath $(LS_VENV))
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install build verify report lint test bench startup fuzz mutate releases-check ls-install ls-serve gold clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The modules setup.py compiles (mypyc): an edit to one of them recompiles at the next make, since
# the compiled module would otherwise be imported in place of the edited source.
COMPILED := $(shell sed -n 's|^    "\(builder/.*\.py\)",$$|\1|p' setup.py)

$(BIN)/claimwire: pyproject.toml setup.py $(COMPILED)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	@touch $@

install: $(BIN)/claimwire  ## create .venv and install the package with its test tools

build: install  ## build dist/claimwire-$(VERSION) from articles/ and annotations/exports/
	$(BIN)/claimwire build --version $(VERSION)
	$(BIN)/claimwire verify dist/claimwire-$(VERSION)

verify: install  ## verify the built release (checksums, split sizes, load_dataset)
	$(BIN)/claimwire verify dist/claimwire-$(VERSION)

report: install  ## write dist/claimwire-$(VERSION).report.html (QA report of the built release)
	$(BIN)/claimwire report dist/claimwire-$(VERSION)

TASKS ?= 10000
bench: install  ## benchmark the build on TASKS synthetic tasks (default 10000; see README)
	$(BIN)/python bench/run.py --tasks $(TASKS)

startup: install  ## start-up CPU of claimwire --help / validate against python -c "import argparse"
	$(BIN)/python bench/startup.py

$(LS_VENV)/bin/label-studio:
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet label-studio==$(LS_VERSION)
	@touch $@

ls-install: $(LS_VENV)/bin/label-studio  ## install Label Studio $(LS_VERSION) in its own venv

ls-serve: install ls-install  ## run a local Label Studio on 127.0.0.1 (prints URL and token file)
	$(BIN)/claimwire ls serve --data-dir .ls-data

LINTED := builder tests bench scripts releases fuzz
lint: install  ## ruff (lint and format) and mypy (strict on the core packages)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

test: install ls-install lint  ## install everything the tests need, lint, type-check and run the whole suite
	$(BIN)/python -m pytest

fuzz: install  ## longer fuzz and round-trip runs: CLAIMWIRE_FUZZ_EXAMPLES=5000 make fuzz
	CLAIMWIRE_FUZZ_EXAMPLES=$${CLAIMWIRE_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest \
		tests/pipeline/test_fuzz_exports.py tests/labelstudio/test_roundtrip_property.py tests/pipeline/test_security.py \
		-m "not labelstudio"

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml): not part of `make test`. One worker:
# the machine's cores are shared. MUTATE='builder.core.offsets.*' runs one module's mutants.
MUTATE ?=
# The mutants are .py files: CLAIMWIRE_NO_COMPILE=1 imports every module from its .py file, so
# the compiled modules mutmut copies along do not shadow them.
mutate: install  ## mutation testing of the core modules (mutmut, one worker); MUTATE='builder.core.offsets.*' for one
	$(BIN)/python -m pip install --quiet -e '.[mutate]'
	rm -rf mutants
	mkdir -p mutants/bench
	CLAIMWIRE_NO_COMPILE=1 $(BIN)/mutmut run --max-children 1 $(if $(MUTATE),'$(MUTATE)')
	$(BIN)/python scripts/mutation_scores.py

releases-check: install  ## fail if the current version is recorded in releases/ and would change
	$(BIN)/python releases/check.py

gold: install ls-install  ## re-record annotations/exports/gold.json through a real Label Studio
	$(BIN)/python scripts/record_gold.py

clean:  ## remove built releases and caches (not the venvs)
	rm -rf dist .pytest_cache .hypothesis mutants
