# The two commands of the README: `make test` and `make reproduce`.
# With a virtual or conda environment active, that environment is used; otherwise .venv is made.
SHELL := /bin/bash
PROFILE ?= default
# A matching torch / torchvision pair (the torchvision data pipelines of the paper profile need both).
# On this project's CI machines both lie on local disk (a CUDA build that also runs on the CPU); on a GPU
# machine pick the pair for its CUDA, e.g. `make setup TORCH_SPEC="torch==2.14.1 torchvision==0.29.1"`
# with TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cu128".
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
TORCH_PIP_ARGS ?=

ifneq ($(strip $(VIRTUAL_ENV)$(CONDA_PREFIX)),)
PY := python
ENV_DIR := $(or $(VIRTUAL_ENV),$(CONDA_PREFIX))
else
PY := .venv/bin/python
ENV_DIR := .venv
endif
STAMP := $(ENV_DIR)/.repro-installed

.PHONY: setup data test reproduce bench clean-build

$(ENV_DIR)/bin/python:
	python3 -m venv $(ENV_DIR)

$(STAMP): pyproject.toml | $(ENV_DIR)/bin/python
	$(PY) -m pip install --upgrade pip
	$(PY) -c "import torch, torchvision" 2>/dev/null || $(PY) -m pip install $(TORCH_PIP_ARGS) $(TORCH_SPEC)
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (repro)"
	touch $(STAMP)

setup: $(STAMP)

data: setup
	$(PY) -m repro data check --install

test: data
	REPRO_PROFILE=smoke $(PY) -m pytest --nbval-lax

reproduce: data
	$(PY) -m repro run-all --profile $(PROFILE)

bench: setup
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) benchmarks/bench_adder.py
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) benchmarks/bench_sharing.py
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) benchmarks/bench_studies.py

clean-build:
	rm -rf build
