# The two set-up commands of the README: `make demo` and `make test`.
# Both install what is missing first (Debian packages, .venv), so they work on a fresh machine.
VENV := .venv
PY := $(VENV)/bin/python
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: install demo demo-ui test lint ui bench clean mutation

install: .install-stamp
.install-stamp: pyproject.toml requirements.lock scripts/install.sh
	bash scripts/install.sh
	touch .install-stamp

demo: install  ## sample data -> ingest -> validate -> indicators -> reports
	$(VENV)/bin/cus demo

test: install  ## the whole test suite on both cores
	$(PY) -m pytest -n 2

lint: install  ## ruff (Python), sqlfluff (DuckDB SQL), import-linter (the layer order of README "Architecture")
	$(VENV)/bin/ruff check .
	$(VENV)/bin/sqlfluff lint assets reports
	$(VENV)/bin/lint-imports

mutation: install  ## mutation testing (pyproject [tool.mutmut]): money, pseudonym, disclosure, validation rules; prints the survivors
	rm -rf mutants
	env -u PYTHONPATH $(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut results

ui: install  ## Dagster UI on http://127.0.0.1:3000 (needs CUS_PSEUDONYM_KEY; after `make demo`: make demo-ui)
	$(VENV)/bin/cus ui

demo-ui: install  ## the UI on the demo warehouse, with the demo key
	$(VENV)/bin/cus ui --demo

clean:  ## remove generated data (landing, warehouse, reports) and run history
	rm -rf data .dagster_home/storage .dagster_home/history .dagster_home/schedules .dagster_home/logs
