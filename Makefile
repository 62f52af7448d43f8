# The two commands a fresh machine needs: `make demo` (the demo manifest end to end) and `make test`.
# Both create .venv and install everything on first use; later runs reuse it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# torch first and pinned: 2.13.0 is the CPU build this machine serves from local disk; any other
# version would download a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test install clean-demo

install: $(STAMP)

$(STAMP): pyproject.toml Makefile $(wildcard pipeline/*.c pipeline/filters/*.c pipeline/extract/*.c)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test,bench,trafilatura,korean]"
	# the Indic NLP Library without its declared dependencies (pandas, sphinx: ~155 MB its tokenizer never imports;
	# installed, pyarrow imports pandas in every process, +22 MiB resident): pyproject.toml's `indic` extra
	$(PY) -m pip install -q --no-deps "indic-nlp-library==0.92"
	# Khmer, Burmese and Vietnamese word segmentation, likewise without declared dependencies their segmenters never
	# import (scikit-learn; fasttext-numpy2-wheel, which would replace fasttext-predict's module): the `khmer`,
	# `burmese` and `vietnamese` extras
	$(PY) -m pip install -q --no-deps "khmer-nltk==1.6" "sklearn-crfsuite==0.5.0" "python-crfsuite==0.9.12" \
		"tabulate==0.10.0" "pyidaungsu-numpy2==0.1.4" "emoji==2.16.0" "pyvi==0.1.1"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m pipeline run manifests/demo.yaml
	$(PY) -m training.train training/configs/demo.yaml --resume
	@for prompt in "The history of the" "Once upon a time" "In the city"; do \
		$(PY) -m model.generate --checkpoint runs/demo/train/checkpoint.pt --prompt "$$prompt" \
			--max-tokens 40 --temperature 0.8 --top-k 50 --seed 1 || exit 1; echo "---"; \
	done
	@echo "trained model: runs/demo/train/checkpoint.pt   metrics: runs/demo/train/metrics.jsonl"

# The suite on two pytest-xdist workers (the CI machine's two cores), each test file whole on one worker
# (--dist loadfile), so a module's fixtures (a cluster, a reference run) are built once; files are dealt in
# collection order (--no-loadscope-reorder: xdist's default deals the files with most tests first, which left
# the few-test slow files for last), and tests/conftest.py puts the files with slow tests first.
# PYTEST_WORKERS=0 runs the suite in one process (bench/README.md, "Test-suite time (CI)").
PYTEST_WORKERS ?= 2

test: $(STAMP)
	sh scripts/ensure-chromium.sh
	$(PY) -m pytest -q -p no:cacheprovider --durations=15 -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

clean-demo:
	rm -rf runs/demo
