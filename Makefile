# The two commands of the README:
#   make demo   install, run the offline demo suite on the embedded default model, build the leaderboard
#   make test   install, then run the whole test suite
# and `make bench` for the performance ratios in BENCHMARKS.md.

SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SUITE ?= demo
MAX_EVAL_INSTANCES ?= 100
# Debian packages, installed with apt-get only when missing.
DEBIAN_PACKAGES_DEMO := flite espeak-ng sox libsox-fmt-mp3 bubblewrap
DEBIAN_PACKAGES_TEST := chromium flite espeak-ng sox libsox-fmt-mp3 bubblewrap
DEBIAN_PACKAGES_BENCH := g++ flite espeak-ng sox bubblewrap

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test bench system-deps-demo system-deps-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml helm_plugins/runners/speculative/_suffix_tree.c | $(BIN)/python
	$(BIN)/python -m pip install --progress-bar off -e '.[test,ray]'
	touch $@

install: $(VENV)/.installed

system-deps-demo:
	@scripts/install_debian_packages.sh $(DEBIAN_PACKAGES_DEMO)

system-deps-test:
	@scripts/install_debian_packages.sh $(DEBIAN_PACKAGES_TEST)

demo: install system-deps-demo
	$(BIN)/helm-plugins demo --suite $(SUITE) --max-eval-instances $(MAX_EVAL_INSTANCES) --conf-dir run_specs

test: install system-deps-test
	$(BIN)/python -m pytest -q

bench: install
	@scripts/install_debian_packages.sh $(DEBIAN_PACKAGES_BENCH)
	scripts/build_arctic_suffix_tree.sh $(VENV) .venv-arctic || echo "arctic-inference not built: its comparison is skipped"
	$(BIN)/python benchmarks/foundation.py --output benchmarks/foundation.md
	$(BIN)/python benchmarks/speculative.py --arctic-python .venv-arctic/bin/python --output benchmarks/speculative.md
	$(BIN)/python benchmarks/structured_prompting.py --output benchmarks/structured_prompting.md
	$(BIN)/python benchmarks/audio.py --output benchmarks/audio.md
	$(BIN)/python benchmarks/hal.py --output benchmarks/hal.md
	$(BIN)/python benchmarks/reliability.py --output benchmarks/reliability.md
	$(BIN)/python benchmarks/optimizers.py --output benchmarks/optimizers.md
	$(BIN)/python benchmarks/infinite_compute.py --output benchmarks/infinite_compute.md
	$(BIN)/python benchmarks/tiny_chat.py -m 200 --uq-questions 200 --benchmarks arithmetic -j 2 --output benchmarks/tiny_chat.md
	cat benchmarks/HEADER.md benchmarks/foundation.md benchmarks/speculative.md benchmarks/structured_prompting.md \
		benchmarks/audio.md benchmarks/hal.md benchmarks/reliability.md benchmarks/optimizers.md \
		benchmarks/infinite_compute.md benchmarks/tiny_chat.md > BENCHMARKS.md

clean:
	rm -rf benchmark_output prod_env dspy_programs demo_output pretrain_output speculate_output provenance_output fairness_frontier_output relative_scaling_output entce_output audio_output optimizers_output infinite_compute_output rl_mle_output
