# Two commands do all the set-up on a fresh Debian/Ubuntu machine, as root:
#   make run    start the whole system on SQLite and print how to call in
#   make test   install what the tests need and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test test-deps test-unit test-protocol test-store test-asterisk test-sip test-sms test-web test-webrtc test-cluster lint format bench provision phone clean help

help:
	@echo "make run | test | lint | format | provision | phone | test-unit | test-protocol | test-store | test-asterisk | test-sip | test-sms | test-web | test-webrtc | test-cluster | bench | clean"

$(STAMP): pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

provision: $(STAMP) phone
	$(BIN)/dialconf asterisk provision

# The join pages' phone (issue 20): JsSIP and esbuild from npm at pinned versions (build/phone,
# npm's cache in /var/cache/dialconf/npm), bundled with booking/web/js/dialconf-phone.js into
# the static file the booking service serves. Rebuilt when its sources change.
PHONE_JS := booking/web/static/dialconf-phone.js
phone: $(PHONE_JS)
$(PHONE_JS): booking/web/js/dialconf-phone.js booking/web/js/package.json booking/web/js/package-lock.json scripts/build-phone.sh
	scripts/build-phone.sh

# What only the tests need (SIPp, PostgreSQL), installed when missing.
test-deps:
	scripts/system-deps.sh test

run: $(STAMP) phone
	$(BIN)/dialconf run

# The real-Asterisk tiers mostly wait for prompts to play: four workers (each with its own
# Asterisk, controller and databases) share two cores well. One file stays on one worker.
XDIST ?= -n 4 --dist loadfile

# The whole suite reports the product's coverage, lines missed per file; it fails under the
# floor: the total measured on the whole suite (93.82 % on 2026-12-03 with the cluster tier)
# rounded down: a change must not lower it. The cluster's routes (cluster/peer_join, rejoin,
# placer, dialconf/cluster_up) run in the node processes the cluster tests start, which coverage
# does not follow (like the kill -9 controller's), so issue 21 moved the total from ~95.0 to 93.8.
COVERAGE_FLOOR ?= 93
COVERAGE ?= --cov --cov-report=term-missing --cov-fail-under=$(COVERAGE_FLOOR)

test: provision test-deps
	$(BIN)/pytest $(XDIST) $(COVERAGE) $(PYTEST_ARGS)

# One tier at a time; an empty selection (pytest exit 5) is not an error here.
test-unit test-protocol test-asterisk test-sip test-sms test-web test-webrtc test-cluster: test-%: provision test-deps
	$(BIN)/pytest -m $* $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The booking store on SQLite and on a throwaway PostgreSQL it starts itself (no Asterisk needed).
test-store: $(STAMP) test-deps
	$(BIN)/pytest -m store $(PYTEST_ARGS)

# Every benchmark in turn, loopback only, each bounded (under 10 minutes on 2 cores):
# booking check + insert at 100 000 bookings (SQLite, PostgreSQL), the controller's cost per AGI
# exchange against process-per-call pyst2, a SIPp join storm against a static ConfBridge floor,
# media capacity, the caller journey, the placement simulation over 50 nodes (pure Python), and
# the join storm through Kamailio into 2 media nodes against one node, with the CPU of a relayed
# member against a local one. Each writes bench/results/<name>-<date>.md and .json; bench/all.py adds
# bench-<date>.md with every verdict and the whole run's time. Extra arguments per benchmark:
# BOOKING_BENCH_ARGS, AGI_BENCH_ARGS, STORM_BENCH_ARGS, MEDIA_BENCH_ARGS, JOURNEY_BENCH_ARGS,
# PLACEMENT_BENCH_ARGS, CLUSTER_BENCH_ARGS (see each one's --help).
bench: provision test-deps
	$(BIN)/python -m bench.all

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
