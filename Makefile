# Gongshi: `make publish` builds the bundled demo campaign into site/; `make test` runs the tests.
# Both create the virtualenv from the pinned requirements.txt on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= site_data/gongshi.yml
DEMO_CONFIG := site_data/gongshi.yml
SNAPSHOTS := site_data/snapshots
HISTORY := $(sort $(wildcard site_data/history/*))

.DEFAULT_GOAL := help
.PHONY: help venv publish preview seed-history lint test test-browser system-deps bench demo verify lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Gongshi needs Python 3.11; set PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv from requirements.txt (pinned)

seed-history: $(STAMP) ## Demo only: publish each earlier export as a snapshot unless it already is one
	@if [ "$(CONFIG)" = "$(DEMO_CONFIG)" ]; then \
	  for dir in $(HISTORY); do \
	    day=$$(basename $$dir); \
	    ls -d $(SNAPSHOTS)/$$day-* >/dev/null 2>&1 || \
	    $(PY) -m etl publish --config $(DEMO_CONFIG) --snapshot-only --sources-from $$dir --as-of $$day || exit 1; \
	  done; \
	fi

# Extra flags for the publish, e.g. PUBLISH_FLAGS="--summary /var/lib/gongshi/summary.json"
# (site_data/schedule/publish-scheduled.sh passes that to read the exit code back).
PUBLISH_FLAGS ?=
PREVIEW_PORT ?= 8000

publish: seed-history ## Build the campaign in CONFIG (default: the bundled demo) into site/
	$(PY) -m etl publish --config $(CONFIG) $(PUBLISH_FLAGS)

preview: seed-history ## Build CONFIG into a preview (live site untouched), list what would change, serve it on 127.0.0.1:PREVIEW_PORT
	$(PY) -m etl preview --config $(CONFIG) --port $(PREVIEW_PORT)

verify: $(STAMP) ## Re-check the site CONFIG publishes: hashes, chain and every figure
	$(PY) -m etl verify --config $(CONFIG)

lint: $(STAMP) ## Check the code for errors pyflakes finds (unused or undefined names, ...)
	$(VENV)/bin/ruff check --select F,B023 etl tests bench

test: lint ## Run the lint and the tests (browser tests excluded; see test-browser); lists each skip and why
	$(PY) -m pytest -q -rfEs -m "not browser" tests

# nodejs runs search.js in tests/site/test_search.py; Debian's own package is enough (node 18+).
# WeasyPrint (the receipt PDF) needs Pango; openssl is the tests' own timestamp authority;
# poppler-utils and zbar-tools let tests/ledger/test_receipt.py read the printed QR code back.
SYSTEM_PACKAGES := chromium fonts-wqy-microhei minisign nodejs libpango-1.0-0 libpangoft2-1.0-0 \
	openssl poppler-utils zbar-tools

system-deps: ## Install Debian packages: chromium, a CJK font, minisign, node, Pango, QR/PDF readers (needs root)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing; fi

test-browser: system-deps publish ## Build the demo, then run the real-browser tests in headless chromium (axe-core from tests/browser/package-lock.json)
	cd tests/browser && npm ci --no-audit --no-fund --silent
	GONGSHI_TEST_SITE=$(CURDIR)/site $(PY) -m pytest -q -m browser tests

BENCH_SIZES ?= 1000,11500,100000
# The federation case: this many counties of 10,000 issues each (100: 1M issues), 5 publishing again.
BENCH_MEMBERS ?= 100

bench: $(STAMP) ## Time every stage raw->site on synthetic campaigns (BENCH_SIZES issues) against plain mkdocs, then a federation of BENCH_MEMBERS counties
	$(PY) bench/run.py --sizes $(BENCH_SIZES)
	$(PY) bench/run.py --federation --members $(BENCH_MEMBERS)

demo: $(STAMP) ## Regenerate the bundled demo exports under site_data/
	$(PY) -m etl synth --out site_data/sources --history-out site_data/history

lock: ## Re-resolve requirements.in in a fresh virtualenv and pin the result in requirements.txt
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet -r requirements.in
	(echo "# Every package pinned; generated from requirements.in by \`make lock\`."; build/lock-venv/bin/python -m pip freeze) > requirements.txt
	rm -rf build/lock-venv

clean: ## Remove build output (keeps snapshots and the virtualenv)
	rm -rf build site site.old
