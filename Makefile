# Two commands on a fresh machine with Python 3.11+:  make demo  /  make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench bench-graph bench-profiles bench-files bench-secret-lines bench-secrets bench-values bench-azure bench-gcp bench-org eval eval-lifecycle lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## the whole flow on the embedded estate: no network, no cloud account
	$(BIN)/agentreach demo

test: $(STAMP)  ## the test suite, against a real moto server, real SQLite files and a throwaway PostgreSQL
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)  ## figures for the closing note: wall time, API calls, peak RSS
	$(BIN)/python bench/aws_scan.py

bench-graph: $(STAMP)  ## the reach graph at 100k identities and 1M edges
	$(BIN)/python bench/graph.py

bench-profiles: $(STAMP)  ## the approved-profile findings (drift and its right-sized policy) over 2,000 agent roles
	$(BIN)/python bench/profiles.py

bench-files: $(STAMP)  ## the files connector against detect-secrets on a generated tree
	$(BIN)/python bench/files_scan.py

bench-secret-lines: $(STAMP)  ## one log of 2,000 and 20,000 secret lines: the files connector's cost grows linearly
	$(BIN)/python bench/secret_lines.py

bench-secrets: $(STAMP)  ## recall/precision per kind on others' labelled examples and ours, FPs and MB/s on site-packages, detect-secrets beside us
	$(BIN)/python bench/secrets_eval.py

bench-values: $(STAMP)  ## what --match-secret-values costs: one scrypt, one JSON secret, 40 Secrets Manager secrets on moto
	$(BIN)/python bench/secret_values.py

bench-azure: $(STAMP)  ## the Azure connector on a generated tenant (2,000 apps) served by the TLS fake
	$(BIN)/python bench/azure_scan.py

bench-gcp: $(STAMP)  ## the GCP connector on a generated organization (1,000 service accounts) served by the fakes
	$(BIN)/python bench/gcp_scan.py

bench-org: $(STAMP)  ## an AWS Organization of 10, 30 and 100 accounts: wall time, API calls, peak RSS
	$(BIN)/python bench/org_scan.py

eval: $(STAMP)  ## the agent classifier on the labelled estate: precision, recall, traps
	$(BIN)/python bench/classifier_eval.py

eval-lifecycle: $(STAMP)  ## owner and stale verdicts against others' labelled checks and the clouds' docs
	$(BIN)/python bench/lifecycle_eval.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff && $(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
