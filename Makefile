# Contact-center glossary & FAQ assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON310 ?= $(shell command -v python3.10 2>/dev/null || echo $(HOME)/.pyenv/versions/3.10.13/bin/python3.10)
VENV := .venv
PY := $(VENV)/bin/python
# `rasa` with the measured fixes in rasa_runtime/speedups.py applied.
RASA := PYTHONPATH=$(CURDIR) $(VENV)/bin/python -m rasa_runtime
export PYTHONPATH := $(CURDIR)
# TensorFlow start-up chatter hides real errors.
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

MODEL := models/model.tar.gz
MODEL_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
	$(wildcard components/*.py) assistant/normalize.py assistant/glossary.py assistant/matcher.py
# (only the modules the NLU components import: an action-only change needs no retrain)

.PHONY: help install generate check-generated validate train run shell test test-unit \
	test-stories test-integration test-e2e eval bench tickets agents trainees lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@test -x "$(PYTHON310)" || { echo "Python 3.10 not found (set PYTHON310=/path/to/python3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade 'pip==24.0'
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed ## Create .venv with the pinned dependencies

lock: ## Re-pin requirements.txt from requirements*.in (needs network)
	rm -rf /tmp/cc-lock && $(PYTHON310) -m venv /tmp/cc-lock
	/tmp/cc-lock/bin/pip install -q 'pip==24.0' && /tmp/cc-lock/bin/pip install -q -r requirements.in -r requirements-dev.in
	/tmp/cc-lock/bin/pip freeze | grep -v -E '^(pip|setuptools|wheel)==' > requirements.txt

generate: install ## Regenerate NLU data and FAQ responses from data/glossary.yml + data/faq.yml
	$(PY) scripts/generate.py

check-generated: install ## Fail if generated files are out of date
	$(PY) scripts/generate.py --check

validate: install ## rasa data validate
	$(PY) scripts/validate.py

$(MODEL): $(VENV)/.installed $(MODEL_INPUTS)
	$(RASA) train --fixed-model-name model --out models
	@touch $@

train: $(MODEL) ## Train the model if it is missing or stale

run: $(MODEL) ## Start action server, Rasa (REST + socket.io) on :5005 and the demo page on :8080
	scripts/run.sh

shell: $(MODEL) ## Chat in the terminal (starts its own action server)
	scripts/run.sh shell

test-unit: install
	scripts/install_test_services.sh
	$(PY) -m pytest tests/unit -q

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results

test-integration: $(MODEL)
	scripts/install_test_services.sh
	scripts/install_browser.sh --web-only
	$(PY) -m pytest tests/integration -q

test-e2e: $(MODEL)
	scripts/install_browser.sh
	$(PY) -m pytest tests/e2e -q

eval: $(MODEL) ## Send tests/eval/cases.yml over REST, accuracy per group and set (fails < 97% on any set but the holdout, or on any false handoff)
	$(PY) scripts/eval.py --min-accuracy 0.97 --min-new-accuracy 0.97 --min-set-accuracy 0.97 --report-only holdout

.PHONY: lint types
PY_PACKAGES := assistant actions channels components devtools rasa_runtime scripts tests
lint: install ## ruff: lint + format check of every Python package and the tests (pyproject.toml); import layering (.importlinter)
	$(VENV)/bin/ruff check $(PY_PACKAGES)
	$(VENV)/bin/ruff format --check $(PY_PACKAGES)
	$(VENV)/bin/lint-imports --no-cache

types: install ## mypy on every Python package and the tests (settings in pyproject.toml: strict; tests lighter)
	$(VENV)/bin/mypy

.PHONY: scale-test scale-test-short
scale-test: $(MODEL) ## Scale-out: 2 Rasa + 2 action servers behind HAProxy, PostgreSQL, Redis; 50 users 60 s; Rasa and an action server killed, PostgreSQL and Redis restarted
	scripts/install_scale_services.sh
	$(PY) scripts/scale/run.py

scale-test-short: $(MODEL) ## The CI version of scale-test (15 users, 25 s, Rasa and an action server killed; tests/scale)
	scripts/install_scale_services.sh
	$(PY) -m pytest tests/scale -q -s

test: install lint types check-generated validate test-unit train test-stories test-integration test-e2e scale-test-short soak-short eval ## Everything CI runs

bench: $(MODEL) ## NLU and REST latency, train time, memory; then side by side with stock Rasa + GiNZA
	$(PY) scripts/bench_latency.py --train --content 41,10000,100000
	$(PY) scripts/bench_stock.py
	$(PY) scripts/bench_routing.py
	$(PY) scripts/bench_analytics.py

tickets: install ## Staff CLI: make tickets ARGS="list|show ESC-…|close ESC-…"
	$(PY) -m assistant.handoff.cli $(or $(ARGS),list)

trainees: install ## Trainer CLI: make trainees [ARGS="show <trainee>|hardest|gaps"]
	$(PY) -m assistant.training.cli $(ARGS)

agents: install ## Console accounts: make agents ARGS="add 佐藤 [--name 佐藤花子] [--role editor]|role 佐藤 supervisor|passwd 佐藤|list|audit"
	$(PY) -m assistant.livechat.agents_cli $(or $(ARGS),list)

.PHONY: soak soak-short
SOAK_ARGS ?= --messages 100000
soak: $(MODEL) ## Memory under traffic: both servers over REST, RSS slope per 1,000 messages (SOAK_ARGS="--seconds 600 --trace")
	$(PY) scripts/soak.py $(SOAK_ARGS)

soak-short: $(MODEL) ## The CI soak: 3,500 parses in-process under tracemalloc, fails above 300 KiB per 1,000
	$(PY) scripts/soak.py --in-process --messages 3500 --warmup 500 --max-slope 300 --top 5

.PHONY: content-export content-status bench-studio
content-export: install ## Content studio: write its database back to data/glossary.yml + data/faq.yml (then make generate)
	$(PY) -m assistant.content.cli export

content-status: install ## Content studio: the revision, counts and latest changes
	$(PY) -m assistant.content.cli status

bench-studio: $(MODEL) ## Content studio on real servers: test all, publish → answered, import of 10,000 terms
	$(PY) scripts/bench_studio.py --terms 10000

clean:
	rm -rf models results .rasa var/*.db

# --- Reliability: retention, deletion, backups (docs/retention.md, docs/backups.md) ---
.PHONY: purge forget retention backup restore
purge: install ## Delete/anonymise data older than RETENTION_*_DAYS (tracker + handoff DB; safe while serving)
	$(PY) -m assistant.retention.cli $(ARGS) purge

forget: install ## Delete one customer's data: make forget ARGS="<sender id or ESC-…>" (audit entry, no personal data)
	$(PY) -m assistant.retention.cli forget $(ARGS)

retention: install ## What is stored where and how long (the retention registry)
	$(PY) -m assistant.retention.cli registry

backup: install ## Copy var/tracker.db + var/handoff.db with SQLite's online backup API (safe while serving) to var/backups/<time>/
	$(PY) -m assistant.backup backup $(ARGS)

restore: install ## Restore a backup: make restore ARGS="var/backups/<time> [--to DIR | --force]"
	$(PY) -m assistant.backup restore $(ARGS)

# --- understanding fresh phrasings (issue 17) ---
.PHONY: bench-routing eval-holdout
bench-routing: install ## Router cost per message (routing.decide on the eval texts, no Rasa)
	$(PY) scripts/bench_routing.py

eval-holdout: $(MODEL) ## Only the blind holdout set of the eval (report only)
	$(PY) scripts/eval.py --set holdout --report-only holdout
# -- analytics (issue 19; docs/analytics.md) ------------------------------------------
.PHONY: report bench-analytics analytics-backfill
report: install ## KPIs of a period in the terminal: make report ARGS="--from 2026-12-01 --to 2026-12-31 [--channel rest] [--csv kpis]"
	$(PY) -m assistant.outcomes.cli $(ARGS)

analytics-backfill: install ## Once: the outcome log from existing trackers and tickets (before the log's first row)
	$(PY) -m assistant.outcomes.backfill $(ARGS)

bench-analytics: install ## Outcome log: hot-path cost; dashboard on 30 days x 1,000,000 messages (SQLite, PostgreSQL)
	scripts/install_test_services.sh
	$(PY) scripts/bench_analytics.py

# -- LINE channel (docs/line.md) --------------------------------------------------
.PHONY: test-line
test-line: $(MODEL) ## LINE channel: unit tables, the API client and the real servers against a stand-in of LINE
	$(PY) -m pytest -q tests/unit/test_line.py tests/unit/test_line_api.py tests/integration/test_line.py

# -- unanswered inbox (issue 15 item 8; docs/inbox.md) ---------------------------------
.PHONY: bench-inbox
bench-inbox: install ## Unanswered inbox: listing time on 30 days x 1,000,000 messages (SQLite)
	$(PY) scripts/bench_inbox.py

# -- settings (issue 20 move 4; docs/settings.md) ---------------------------------
.PHONY: settings-doc settings-check
settings-doc: install ## Regenerate docs/settings.md from assistant/settings.py
	$(PY) -m assistant.settings doc --write

settings-check: install ## Check the current environment's settings (exit 2 naming every bad value)
	$(PY) -m assistant.settings check
