# Set-up and everyday commands. `make report` and `make test` do everything,
# creating the virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sktrust-installed
# The CPU build of torch: an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
PYTEST_ARGS ?= -n 2

.PHONY: install report test lint docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	touch $(STAMP)

report: $(STAMP)
	$(VENV)/bin/sktrust report --out sktrust_report

test: $(STAMP)
	@$(PY) -m pytest $(PYTEST_ARGS) --doctest-modules sktrust tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check .

docs: $(STAMP)
	$(MAKE) -C docs html SPHINXBUILD=$(abspath $(VENV))/bin/sphinx-build

clean:
	rm -rf $(VENV) sktrust_report docs/_build docs/auto_examples docs/generated
