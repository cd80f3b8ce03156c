# Shortcuts for the scripts (the README's two commands work without make).
.PHONY: help setup run test bench

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:  ## install Debian packages, the Python venv and npm packages (idempotent)
	./scripts/setup.sh

run:  ## set up, then serve on 127.0.0.1:8000 with the embedded database and demo data
	./scripts/run.sh

test:  ## set up, then run every check and the whole test suite
	./scripts/test.sh

bench:  ## measure against peers on this machine (ogr2ogr, tipg); prints tables with ratios
	./scripts/setup.sh
	[ -x .venv-bench-tipg/bin/python ] || python3 -m venv .venv-bench-tipg
	# tipg gets the same server stack as mapsvc (a no-op when already installed)
	.venv-bench-tipg/bin/pip install --quiet tipg==1.6.1 uvicorn==0.54.0 httptools==0.9.0 uvloop==0.23.0
	.venv/bin/python -m bench.imports
	.venv/bin/python -m bench.api
	.venv/bin/python -m bench.search
	.venv/bin/python -m bench.abuse
	.venv/bin/python -m bench.viewer
	# The load test's client (Debian's wrk); the proxy itself comes with setup.sh (nginx).
	command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk || sudo apt-get install -y -qq wrk; }
	.venv/bin/python -m bench.load
	.venv/bin/python -m bench.disaster
