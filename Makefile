# Every target sets itself up on a fresh machine: a .venv, torch first (the build TORCH_VARIANT names), then nlpbot.
PYTHON ?= python3
VENV ?= .venv
# Which torch: cpu (about 200 MB) or cuda (the multi-GB PyPI build). Default: cuda where nvidia-smi runs, else cpu.
TORCH_VARIANT ?= $(shell nvidia-smi >/dev/null 2>&1 && echo cuda || echo cpu)
# Where the CPU build comes from. Left out when it cannot be reached (a machine with only a PyPI mirror, whose
# pip configuration then has to offer the CPU wheel, as ours does); `make setup TORCH_INDEX=` never uses it.
TORCH_INDEX ?= $(if $(filter cpu,$(TORCH_VARIANT)),https://download.pytorch.org/whl/cpu)
TORCH_VERSION ?= 2.13.0
PY := $(VENV)/bin/python
NLPBOT := $(VENV)/bin/nlpbot
STAMP := $(VENV)/.installed

.PHONY: setup run docs-index test model bench clean redis-server

setup: $(STAMP)

# The example third-party plugin (examples/nlpbot-urgency) is installed too: the plugin contract tests run it.
EXAMPLES := examples/nlpbot-urgency

$(STAMP): pyproject.toml $(EXAMPLES:%=%/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned, of the chosen variant (an unpinned torch pulls the multi-GB CUDA build)
	@echo "torch $(TORCH_VERSION), $(TORCH_VARIANT) build$(if $(TORCH_INDEX), (index $(TORCH_INDEX)))"
	index="$(TORCH_INDEX)"; \
	if [ -n "$$index" ] && ! $(PY) -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)" "$$index/" 2>/dev/null; then \
		echo "$$index cannot be reached: torch comes from the configured package index"; index=; fi; \
	$(PY) -m pip install --quiet --disable-pip-version-check $${index:+--extra-index-url "$$index"} torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,redis,ray]'
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(EXAMPLES:%=-e %)
	touch $(STAMP)

# The default sentiment model: VADER's human-rated sentences -> MiniLM fine-tuned (once; kept in models/).
model: setup
	@if [ -f models/sentiment/serving.json ]; then echo "sentiment model: $$(cat models/sentiment/serving.json)"; else \
		$(NLPBOT) data vader --out data/vader && \
		$(NLPBOT) train sentiment; fi  # data, base and step budget: [training.sentiment] in config.toml

# First run: the project's own README (and docs/) as the `docs` index, so `/ask how do I connect Slack` answers.
docs-index: setup
	@if [ ! -e indexes/docs ]; then echo "first run: indexing $(strip README.md $(wildcard docs)) into the docs index"; \
		$(NLPBOT) index add --no-progress --index docs README.md $(wildcard docs); fi

# Run the bot: Slack if SLACK_* is set in the environment, else the console.
run: model docs-index
	$(NLPBOT) run

# The replica tests start a real Redis: Debian's redis-server, installed here when missing (as root).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq redis-server || { apt-get update -qq && apt-get install -y -qq redis-server; }; }; } || \
		{ echo "redis-server is missing: install it (apt-get install redis-server) and run make test again"; exit 1; }

# Tests run in a random order (pytest-randomly), on a fixed seed so CI is repeatable; `make test TEST_SEED=N` tries another.
TEST_SEED ?= 1206

test: setup redis-server
	$(PY) -m pytest -q -p randomly --randomly-seed=$(TEST_SEED)

# Each run writes bench/results/DATE-run.md; the verdicts in bench/RESULTS.md are written by hand from them.
bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
