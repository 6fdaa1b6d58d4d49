# Two commands on a fresh machine (Python 3.11, no conda needed):
#   make run    set up .venv and run the workflow on the bundled synthetic cohort
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= 8
BIN := $(VENV)/bin

.PHONY: setup run test lint format

$(BIN)/.installed: requirements.txt requirements-cluster.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# WeasyPrint (report.pdf) needs the Pango system library; installed with apt-get when root
	$(BIN)/python -c "import weasyprint" 2>/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; } || true
	@$(BIN)/python -c "import weasyprint" || { echo "report.pdf needs WeasyPrint's system libraries: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (or brew install pango)"; exit 1; }
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check workflow tests benchmarks
	$(BIN)/ruff format --check workflow tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: setup
	$(BIN)/ruff format workflow tests benchmarks
	$(BIN)/snakefmt Snakefile workflow/rules

# A real SLURM run: a throwaway one-node cluster on localhost (needs root; installs slurm-wlm and
# munge with apt-get if missing), the default workflow with n_samples=500 through profiles/slurm,
# compared byte for byte with a local run. About 5 minutes; not part of `make test`.
.PHONY: cluster-test
cluster-test: setup
	$(BIN)/python -m pip install --quiet -r requirements-cluster.txt
	PY=$(abspath $(BIN))/python tests/cluster/run_slurm.sh
