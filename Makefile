# One-command set-up: `make run` and `make test` create the environment when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TORCH_PINS := torch==2.11.0 torchaudio==2.11.0
HOST ?= 0.0.0.0
PORT ?= 8000

.PHONY: install run demo test lint bench bench-engine bench-load bench-stream bench-frontend clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PINS)
	$(PIP) install --quiet -e ".[dev]" $(TORCH_PINS)
	touch $(STAMP)

run: install
	$(VENV)/bin/f5-tts-vi serve --host $(HOST) --port $(PORT)

demo: install
	$(VENV)/bin/f5-tts-vi serve --demo --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: bench-engine bench-load bench-stream bench-frontend

# Each writes its table, with machine and command, under benchmarks/results/.
bench-engine: install
	$(PY) benchmarks/engine.py --arch demo --batch 1 --batch 4 --batch 8 --batch 16 --out benchmarks/results/engine-cpu-demo.md

bench-load: install
	$(PY) benchmarks/load.py

bench-stream: install
	$(PY) benchmarks/stream.py

bench-frontend: install
	$(PY) benchmarks/frontend.py --write benchmarks/results/frontend-cpu.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
