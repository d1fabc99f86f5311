# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve bench loadtest lint format check messages setup db clean-data audit mutate

A11Y := tools/a11y

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed $(A11Y)/node_modules/.installed

# axe-core for the browser tests' accessibility audit and Lighthouse for `make audit`, pinned in
# tools/a11y/package-lock.json. Without npm the browser tests skip the audit (CI requires it).
$(A11Y)/node_modules/.installed: $(A11Y)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(A11Y) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm is missing: the browser tests will skip the axe-core audit (apt-get install npm)."; \
	fi

# Migrate, load the starter content when there are no questions yet, segment posts for search.
db: setup
	$(MANAGE) migrate --noinput
	$(MANAGE) load_starter --if-empty
	$(MANAGE) reindex_search

run: db
	$(MANAGE) runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Production-style: gunicorn + whitenoise with DEBUG=0 (needs SECRET_KEY and ALLOWED_HOSTS).
serve: db
	DEBUG=0 $(MANAGE) collectstatic --noinput
	DEBUG=0 $(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2}

bench: setup
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.search $(BENCH_SEARCH_ARGS)

# Locust headless against gunicorn (DEBUG=0, Redis if REDIS_URL is set) on a generated database,
# a realistic read/search/vote/write mix for 60 s, then checks that nothing was lost (bench/loadtest.py).
loadtest: setup
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: lint
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) check

messages: setup
	$(MANAGE) makemessages -l zh_Hans -l en --ignore .venv --ignore .data
	$(MANAGE) compilemessages --ignore .venv

# Lighthouse 12 (mobile and desktop) on the eight landing pages against `serve`'s production setup
# (gunicorn + whitenoise, DEBUG=0) on a spare port; prints the four scores per page.
audit: db
	$(PY) -m tools.audit $(AUDIT_ARGS)

# Mutation testing of the rulebook and the vote, reputation and moderation services
# (tools/mutate.py, tools/mutate.toml; docs/mutation.md). CPU-heavy: niced, one module at a time.
# MUTATE_ARGS narrows it, e.g. MUTATE_ARGS=kb/services/votes.py.
mutate: setup
	nice -n 19 $(PY) -m tools.mutate $(MUTATE_ARGS)

clean-data:
	rm -rf .data
