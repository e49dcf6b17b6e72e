# RegenClinic: `make run` and `make test` do all set-up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench format migrate demo static messages browser-deps clean backup restore restore-drill crash-drill audit

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

# Installs only when a lock file changed since the last install.
$(VENV)/.run-installed: requirements.lock | $(PY)
	$(BIN)/uv pip install --quiet --python $(PY) -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock | $(PY)
	$(BIN)/uv pip install --quiet --python $(PY) -r requirements-dev.lock
	touch $@ $(VENV)/.run-installed

static: $(VENV)/.run-installed
	$(PY) manage.py collectstatic --noinput --verbosity 0

migrate: $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput --verbosity 0

demo: migrate
	$(PY) manage.py load_demo_practice
	$(PY) manage.py load_demo_schedule --with-appointments
	$(PY) manage.py load_consent_documents
	$(PY) manage.py load_demo_clinic
	@# Its invitations link to the server `make run` starts (HOST, PORT) unless SITE_URL says otherwise.
	SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py load_demo_outcomes
	@# Synthetic history for the outcomes dashboard (patients named Synthetic), and "Our results" published from it.
	$(PY) manage.py make_registry --episodes 400 --force --if-missing
	$(PY) manage.py publish_results --by drlee --if-unpublished

run: demo static
	@echo ""
	@echo "RegenClinic demo practice on http://$(HOST):$(PORT)/  (Spanish: http://$(HOST):$(PORT)/es/)"
	@echo "Staff sign-in at http://$(HOST):$(PORT)/accounts/sign-in/ with password demo-practice-2026 and user:"
	@echo "  frontdesk (front desk)   drlee (physician)   pkim (physician assistant)   tech (processing technician)"
	@echo "  manager (practice manager: de-identified figures only)   research (researcher)   admin (administrator, the admin site)"
	@echo "Second step of sign-in: the 6-digit code from 'make demo-code WHO=drlee' (in another terminal; demo accounts only)."
	@echo "Emails the demo sends (reminders too, by the worker) are written to var/mail/. Stop with Ctrl-C."
	@echo ""
	@# The worker (reminders, inquiry notices) runs beside gunicorn. When either stops, or this shell
	@# gets Ctrl-C or a TERM, the EXIT trap stops both and waits for them; --exit-with-parent stops
	@# the worker even if this shell is killed outright. Nothing is left running.
	@# %(U)s is the path without its query string: query strings never reach the log; the logger class
	@# masks a link's token in it (regenclinic.logfilters).
	@# Links in the demo's emails point at this server unless SITE_URL says otherwise.
	@export SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}"; \
	$(PY) manage.py run_worker --exit-with-parent & worker=$$!; \
	$(BIN)/gunicorn regenclinic.wsgi --bind $(HOST):$(PORT) --workers 2 --logger-class regenclinic.logfilters.GunicornLogger --access-logfile - --access-logformat '%(t)s %(m)s %(U)s %(s)s %(b)s %(L)ss' & web=$$!; \
	trap 'kill $$web $$worker 2>/dev/null; wait' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	wait -n $$web $$worker

# Debian's chromium for the browser tests; installed once, never a browser download.
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Lighthouse for the browser checks, exactly as package-lock.json pins it (Debian's nodejs when node is
# missing). Lighthouse drives Debian's chromium; nothing here downloads a browser.
node_modules/.installed: package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(VENV)/.dev-installed browser-deps node_modules/.installed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev-installed
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) bench/run.py

# Spanish translations: extract, then compile (needs gettext; the .mo files are committed).
messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages -l es --no-obsolete --add-location file
	$(PY) manage.py compilemessages -l es

# Backups of the configured database (SQLite or DATABASE_URL's PostgreSQL) with their manifest; see README.
BACKUP_DIR ?= var/backups
backup: $(VENV)/.run-installed
	$(PY) manage.py backup --out $(BACKUP_DIR)

# make restore FILE=var/backups/regenclinic-....tar.gz [FORCE=1]: stop the app and the worker first.
restore: $(VENV)/.run-installed
	@test -n "$(FILE)" || { echo "make restore FILE=path/to/backup.tar.gz [FORCE=1]"; exit 2; }
	$(PY) manage.py restore "$(FILE)" $(if $(FORCE),--force)

restore-drill: $(VENV)/.run-installed
	$(PY) manage.py restore_drill

# make demo-code WHO=drlee: the second-step code a demo account's authenticator shows now (demo accounts only).
demo-code: $(VENV)/.run-installed
	@test -n "$(WHO)" || { echo "make demo-code WHO=drlee"; exit 2; }
	@$(PY) manage.py demo_code "$(WHO)"

# kill -9 of gunicorn and the worker, and PostgreSQL's immediate stop, under load, on databases of its own; see README.
# CRASH_DRILL_ARGS="--database sqlite --seconds 5" for a shorter one.
crash-drill: static
	$(PY) manage.py crash_drill $(CRASH_DRILL_ARGS)

# The locked dependencies against PyPI's advisories: fails on a vulnerability with a fix, or a package not checked.
audit: $(VENV)/.dev-installed
	$(PY) -m lib.dependency_audit requirements.lock requirements-dev.lock

clean:
	rm -rf $(VENV) staticfiles var/test*.sqlite3*
