# The two commands of the README: `make demo` and `make test`. Each does all the set-up itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-postgres setup system-deps spark-deps postgres-deps lint clean seed-gold

demo: setup
	$(BIN)/annotate demo

test: setup system-deps spark-deps
	$(BIN)/python -m pytest -q

# The Label Studio tests (marked `server`) once more, on PostgreSQL: a throwaway cluster in /tmp,
# started and removed by tests/conftest.py. `make test` runs the PostgreSQL-only tests too when the
# binaries are there (and skips them, saying so, when not). Left out here: two tests that copy the
# session's SQLite file (on PostgreSQL there is none, and the first would leave a server running), and
# the blind-mode tests, whose desks are Label Studio servers of their own on SQLite whatever the session's
# database (blind/desks.py): on PostgreSQL they would repeat the SQLite run, three server starts included.
PG_DESELECT := --deselect tests/test_server.py::test_database_made_with_other_credentials_is_refused \
               --deselect tests/test_server.py::test_cli_lifecycle_start_status_stop \
               --deselect tests/test_blind.py
test-postgres: setup system-deps postgres-deps
	ANNOTATE_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -m server $(PG_DESELECT)

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[server,dev,spark]"
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright may not download its own browser here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "chromium missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

# Debian's Java runtime for Spark (`annotate extract --engine spark` and its tests, marked `spark`).
spark-deps:
	@command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q default-jre-headless; \
	  else echo "java missing: run 'sudo apt-get install default-jre-headless'" >&2; exit 1; fi; }

# Debian's PostgreSQL server binaries (/usr/lib/postgresql/<ver>/bin) for the throwaway test clusters.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q postgresql; \
	  else echo "PostgreSQL missing: run 'sudo apt-get install postgresql'" >&2; exit 1; fi; }

lint: setup
	$(BIN)/ruff check annotate schemas exports tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Rebuild the checked-in seed-gold release from the recorded annotations and the two statement passes (no server
# needed). Version 1.1.0 adds the statement layer; 1.0.0 stays in seeds/seed-gold/.releases/.
SEED_GOLD_TMP := $(shell mktemp -d -u /tmp/seed-gold.XXXXXX)
SEED_STATEMENT_PASSES := seeds/annotations/statements/annotator-1.jsonl seeds/annotations/statements/annotator-2.jsonl
seed-gold: setup
	mkdir -p $(SEED_GOLD_TMP)
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate pull --from seeds/annotations/seed-annotations.export.json --out $(SEED_GOLD_TMP)/docs.jsonl --articles seeds
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate agreement $(SEED_GOLD_TMP)/docs.jsonl --json seeds/annotations/agreement.json
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate adjudicate $(SEED_GOLD_TMP)/docs.jsonl --decisions seeds/annotations/decisions.json --out seeds/annotations/gold.jsonl
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate statements agreement $(SEED_STATEMENT_PASSES) --gold seeds/annotations/gold.jsonl --json seeds/annotations/statement-agreement.json
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate statements adjudicate $(SEED_STATEMENT_PASSES) --gold seeds/annotations/gold.jsonl --decisions seeds/annotations/statement-decisions.json --out seeds/annotations/gold-statements.jsonl
	ANNOTATE_HOME=$(SEED_GOLD_TMP) $(BIN)/annotate publish seeds/annotations/gold.jsonl --version 1.1.0 --out seeds/seed-gold --annotations $(SEED_GOLD_TMP)/docs.jsonl --agreement seeds/annotations/agreement.json --statements seeds/annotations/gold-statements.jsonl --statement-agreement seeds/annotations/statement-agreement.json --notes seeds/annotations/NOTES.md --pretty-name "Seed gold: news attribution"
	rm -rf $(SEED_GOLD_TMP)
