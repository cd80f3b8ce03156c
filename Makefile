# Shortcuts for the scripts (the README's two commands work without make).
.PHONY: help setup run test

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:  ## install Debian packages, the Python venv and npm packages (idempotent)
	./scripts/setup.sh

run:  ## set up, then serve on 127.0.0.1:8000 with the embedded database and demo data
	./scripts/run.sh

test:  ## set up, then run every check and the whole test suite
	./scripts/test.sh
