# The two commands of the README: `make demo` and `make test`. Each does all the set-up itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system-deps lint clean

demo: setup
	$(BIN)/annotate demo

test: setup system-deps
	$(BIN)/python -m pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[server,dev]"
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright may not download its own browser here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "chromium missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

lint: setup
	$(BIN)/ruff check annotate schemas exports tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
