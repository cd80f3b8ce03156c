"""Property-based tests of the whole API from its own OpenAPI document, writes included.

Schemathesis generates valid, boundary and invalid requests for every operation (its "coverage"
and "fuzzing" phases, positive and negative modes) against a live server, sending an editor's
key. Asserted: no 5xx, every response (errors too) in the documented shape and media type,
invalid input refused, and nothing published changed. Runs Schemathesis's CLI (its pytest
plugin does not support pytest 9).
"""

import re
import subprocess

import pytest
from sqlalchemy import text

from mapsvc.db.engine import make_sessionmaker
from tests.support.paths import PROJECT
from tests.support.server import live_server
from tests.support.staging import committed_key

pytestmark = pytest.mark.db

SCHEMATHESIS = PROJECT / ".venv" / "bin" / "schemathesis"
CHECKS = (
    "not_a_server_error,response_schema_conformance,content_type_conformance,"
    "negative_data_rejection"
)
PUBLISHED = text(
    "SELECT layer_id, municipality_code, current_version_id FROM dataset "
    "WHERE current_version_id IS NOT NULL ORDER BY 1, 2"
)


def test_no_request_fails_the_server_the_schema_or_the_published_data(test_settings, demo, engine):
    sessions = make_sessionmaker(engine)
    key = committed_key(engine, "schemathesis")
    with sessions() as session:
        before = session.execute(PUBLISHED).all()
    url = test_settings.database.url.get_secret_value()
    with live_server(url, MAPSVC_API__DOWNLOADS_PER_MINUTE="10000") as base:
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{base}/api/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                CHECKS,
                "--max-examples",
                "30",
                "--seed",
                "20261202",
                "--phases",
                "coverage,fuzzing",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-5000:]
    summary = next(line for line in result.stdout.splitlines() if re.search(r"\d+ generated", line))
    assert re.search(r"\d+ generated, \d+ passed", summary), summary
    with sessions() as session:
        assert session.execute(PUBLISHED).all() == before
