# Embedding Explorer. `make run` and `make test` work on a fresh machine: each creates
# .venv when it is missing and installs what it needs (re-installing when the pins change).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# see embeddings/__init__.py: Arrow through malloc, which returns freed memory (streamlit imports Arrow first)
export ARROW_DEFAULT_MEMORY_POOL := system

.PHONY: run test e2e bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(PY)
	@echo "Installing the pinned requirements into $(VENV) (first time: a few minutes; torch is a CPU wheel)..."
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	@echo "Installing the test extras (pytest, Playwright's Python package; the browser is Debian's Chromium)..."
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

## run: start the app at http://localhost:$(PORT) on ./workspace; on first start the demo builds
## behind it, in a worker process that ends with the server (its parent: the shell, which exec
## turns into streamlit) and resumes on the next start if stopped
run: $(VENV)/.installed
	$(PY) -m embeddings seed --worker --parent $$$$ & exec $(PY) -m streamlit run app.py --server.port $(PORT)

## test: the whole suite (unit, AppTest, browser)
test: $(VENV)/.installed-dev
	$(PY) -m pytest

## e2e: only the browser tests
e2e: $(VENV)/.installed-dev
	$(PY) -m pytest -m browser

## bench: performance figures as JSON (see bench/)
bench: $(VENV)/.installed-dev
	@for f in bench/*.py; do $(PY) $$f; done

clean:
	rm -rf $(VENV) artifacts .pytest_cache
