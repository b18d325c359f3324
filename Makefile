# Two commands do all the set-up on a fresh Debian/Ubuntu machine, as root:
#   make run    start the whole system on SQLite and print how to call in
#   make test   install what the tests need and run the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test test-deps test-unit test-protocol test-store test-asterisk test-sip test-sms test-web lint format bench provision clean help

help:
	@echo "make run | test | lint | format | provision | test-unit | test-protocol | test-store | test-asterisk | test-sip | test-sms | test-web | bench | clean"

$(STAMP): pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

provision: $(STAMP)
	$(BIN)/dialconf asterisk provision

# What only the tests need (SIPp, PostgreSQL), installed when missing.
test-deps:
	scripts/system-deps.sh test

run: $(STAMP)
	$(BIN)/dialconf run

# The real-Asterisk tiers mostly wait for prompts to play: four workers (each with its own
# Asterisk, controller and databases) share two cores well. One file stays on one worker.
XDIST ?= -n 4 --dist loadfile

test: provision test-deps
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# One tier at a time; an empty selection (pytest exit 5) is not an error here.
test-unit test-protocol test-asterisk test-sip test-sms test-web: test-%: provision test-deps
	$(BIN)/pytest -m $* $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The booking store on SQLite and on a throwaway PostgreSQL it starts itself (no Asterisk needed).
test-store: $(STAMP) test-deps
	$(BIN)/pytest -m store $(PYTEST_ARGS)

# Booking latency (100 000 bookings) and the capacity race, SQLite and PostgreSQL: a few minutes.
# Writes bench/results/booking-<date>.md and .json; BENCH_ARGS are passed on (see --help).
# Then the controller's cost per AGI exchange and per join against a process-per-call pyst2
# script (about 3 minutes): bench/results/agi-<date>.md and .json; AGI_BENCH_ARGS are passed on.
BENCH_ARGS ?=
AGI_BENCH_ARGS ?=
bench: $(STAMP) test-deps
	$(BIN)/python -m bench.booking_bench $(BENCH_ARGS)
	$(BIN)/python -m bench.agi_bench $(AGI_BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
