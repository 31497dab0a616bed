# ketsite developer entry points. Every target first runs scripts/setup.sh,
# which installs what is missing and takes ~0.1 s when nothing is.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= _site
HOST   ?= 127.0.0.1
PORT   ?= 8000
N      ?= 1000

.PHONY: help setup site test bundle serve bench lint

help:
	@echo "make site    install what is missing, then build the site (ketsite build)"
	@echo "make test    install what is missing, then run the whole test suite"
	@echo "make bundle  build the offline site (links name their files) as $(OUT).zip"
	@echo "make serve   preview on http://$(HOST):$(PORT)/, rebuilding and reloading on change"
	@echo "make bench   run the benchmarks (benchmarks/run.py --n $(N))"
	@echo "make lint    ruff check ."

setup:
	@bash scripts/setup.sh

site: setup
	$(VENV)/bin/ketsite build

test: setup
	$(PY) -m pytest

bundle: setup
	$(VENV)/bin/ketsite bundle --out $(OUT).zip

serve: setup
	$(VENV)/bin/ketsite serve --host $(HOST) --port $(PORT)

bench: setup
	$(PY) benchmarks/run.py --n $(N)

lint: setup
	$(VENV)/bin/ruff check .
