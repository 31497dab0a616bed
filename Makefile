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
	@echo "make bundle  build into $(OUT)/ and pack it as $(OUT).zip"
	@echo "make serve   build into $(OUT)/ and serve it on http://$(HOST):$(PORT)/"
	@echo "make bench   run the benchmarks (benchmarks/run.py --n $(N))"
	@echo "make lint    ruff check ."

setup:
	@bash scripts/setup.sh

site: setup
	$(VENV)/bin/ketsite build

test: setup
	$(PY) -m pytest

bundle: setup
	$(VENV)/bin/ketsite build --out $(OUT)
	$(PY) scripts/bundle.py $(OUT) $(OUT).zip

serve: setup
	$(VENV)/bin/ketsite build --out $(OUT)
	@echo "serving $(OUT)/ on http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	$(PY) -m http.server $(PORT) --bind $(HOST) --directory $(OUT)

bench: setup
	$(PY) benchmarks/run.py --n $(N)

lint: setup
	$(VENV)/bin/ruff check .
