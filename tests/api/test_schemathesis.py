"""Property-based tests of the read API from its own OpenAPI document: no 5xx, no schema violation.

Runs Schemathesis's CLI against a live server (its pytest plugin does not support pytest 9).
"""

import re
import subprocess

import pytest

from tests.support.paths import PROJECT
from tests.support.server import live_server

pytestmark = pytest.mark.db

SCHEMATHESIS = PROJECT / ".venv" / "bin" / "schemathesis"


def test_reads_never_fail_the_server_or_the_schema(test_settings, demo):
    with live_server(test_settings.database.url.get_secret_value()) as base:
        result = subprocess.run(
            [str(SCHEMATHESIS), "run", f"{base}/api/openapi.json", "--include-method", "GET",
             "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
             "--max-examples", "15", "--seed", "20261127", "--phases", "coverage,fuzzing"],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:]
    summary = next(line for line in result.stdout.splitlines() if re.search(r"\d+ generated", line))
    assert re.search(r"\d+ generated, \d+ passed", summary), summary
