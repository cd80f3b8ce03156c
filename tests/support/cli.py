"""Run the `mapsvc` command as a user would, optionally against a test database."""

from __future__ import annotations

import os
import subprocess
import sys

from mapsvc.settings import Settings


def run_mapsvc(
    *args: str, settings: Settings | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m mapsvc <args>``; with ``settings``, on that database (and a fixed key secret).

    ``env``: more ``MAPSVC_*`` settings, as an operator would export them.
    """
    env = dict(os.environ, **(env or {}))
    if settings is not None and settings.database.url is not None:
        env["MAPSVC_DATABASE__URL"] = settings.database.url.get_secret_value()
        env["MAPSVC_AUTH__SECRET"] = "cli-test-secret"  # noqa: S105 - a test secret
    return subprocess.run(
        [sys.executable, "-m", "mapsvc", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
