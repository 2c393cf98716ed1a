# The README's two commands: `make run` and `make test`. Each installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit locales doctor clean chaos chaos-short bench burst browser screenshot report-bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

locales: install
	@$(BIN)/python -m helpdesk.texts compile

run: install locales
	@$(BIN)/python main.py

doctor: install locales
	@$(BIN)/python main.py doctor

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

unit: install locales
	$(BIN)/python -m pytest -q

# The sandbox's browser tests drive Debian's Chromium (browser downloads are impossible here), with Noto Color
# Emoji so that the page and its screenshots show 📚 and ✅ (without an emoji font they are empty boxes).
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
browser:
	@test -x /usr/bin/chromium -a -e $(EMOJI_FONT) || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; } || echo "warning: /usr/bin/chromium or the emoji font is missing (install the chromium and fonts-noto-color-emoji packages): browser tests will be skipped, or fail in CI"

# docs/sandbox.png, the README's picture of the sandbox: a parent's question, an article offered, the answer.
screenshot: install locales browser
	$(BIN)/python -m tests.sandbox.screenshot docs/sandbox.png

# One pytest worker per core and one more (end-to-end tests spend much of their time waiting for the fake
# server: on 2 cores, 3 workers took 2:45 where 2 took 2:55); tests marked xdist_group (the browser tests:
# one Chromium) share a worker.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: install locales lint typecheck browser
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup

# Proof of delivery under faults and load (README, "Performance and reliability").
chaos: install locales
	$(BIN)/python benchmarks/chaos.py

chaos-short: install locales
	$(BIN)/python benchmarks/chaos.py --short

bench: install locales
	$(BIN)/python benchmarks/bench.py

# 300 parents ask within a minute under Telegram's flood limits: every ticket visible to staff in 3 minutes.
burst: install locales
	$(BIN)/python benchmarks/burst.py

clean:
	rm -rf $(VENV) build *.egg-info

# A management report over 20,000 tickets: under 2 seconds (README, "Satisfaction and reports").
report-bench: install locales
	$(BIN)/python benchmarks/report_bench.py
