# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
COSTWISE := $(VENV)/bin/costwise

.PHONY: demo test bench install clean demo-data

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# The bundled 30-day demo (dev, staging, prod): no AWS account needed.
demo: $(VENV)/.installed
	$(COSTWISE) estimate --demo
	$(COSTWISE) report --demo --output costwise-report.md
	$(COSTWISE) report --demo --output costwise-report.html
	@echo
	@echo "Report: $(CURDIR)/costwise-report.html (open it in a browser)"
	@echo "Markdown for CI: $(CURDIR)/costwise-report.md"

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

# Benchmarks print their figures and exit non-zero when they miss a target; all of them run.
bench: $(VENV)/.installed-bench
	status=0; for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b --quiet || status=1; done; exit $$status

clean:
	rm -rf $(VENV) build dist *.egg-info
