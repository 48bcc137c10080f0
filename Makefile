# Every target sets itself up on a fresh machine: a .venv, the CPU build of torch first, then nlpbot.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NLPBOT := $(VENV)/bin/nlpbot
STAMP := $(VENV)/.installed

.PHONY: setup run docs-index test model bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build (an unpinned torch pulls a multi-GB CUDA build)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
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

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/run.py --out bench/RESULTS.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
