# Positions: `make run` to serve, `make test` to test. Each sets itself up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 5000
export KB_POSITIONS_DIR ?= positions
export KB_INDEX_DIR ?= search_index

.PHONY: setup run test lint format index check preview serve-prod bench soak lock clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

# axe-core for the in-browser accessibility tests, pinned in package-lock.json. Without npm
# the rest still runs and those tests skip, saying why.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else \
		echo "npm not found: the axe accessibility tests will be skipped (apt-get install npm)"; \
	fi

setup: $(STAMP) $(NODE_STAMP)  ## Install Python and test (npm) dependencies

run: $(STAMP) index  ## Serve the site on http://127.0.0.1:$(PORT)
	$(BIN)/flask --app app run --host 127.0.0.1 --port $(PORT)

index: $(STAMP)  ## Bring the search index up to date
	$(BIN)/flask --app app kb index

check: $(STAMP)  ## Check every position file
	$(BIN)/flask --app app kb check

preview: $(STAMP)  ## Serve with drafts and live re-indexing for editors
	$(BIN)/flask --app app kb serve --port $(PORT)

serve-prod: $(STAMP) index  ## Serve with gunicorn, as in production (KB_BIND, KB_WORKERS…)
	$(BIN)/gunicorn --config gunicorn.conf.py 'app:create_app()'

test: $(STAMP) $(NODE_STAMP)  ## Run the whole suite (browser tests included)
	$(BIN)/python -m pytest -m "not soak"

soak: $(STAMP)  ## The bounded load test (60 s at most)
	$(BIN)/python -m pytest -m soak

bench: $(STAMP)  ## Benchmarks against a SQLite FTS5 baseline (BENCH=--quick for a short run)
	$(BIN)/python -m bench $(BENCH)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:  ## Re-pin requirements with hashes after editing requirements*.in
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) node_modules search_index .pytest_cache tests/screenshots
