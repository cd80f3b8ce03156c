"""The viewer says a shelter's status in the very words the service uses (one set of words).

The viewer has no build step and cannot import Python: web/js/text.js holds its own copy of
the labels, and this test keeps it equal to mapsvc/services/shelter_status.py's.
"""

from __future__ import annotations

import json
import subprocess

from mapsvc.services.shelter_status import CROWDING_LABELS, MODE_LABELS, STATUS_LABELS
from tests.support.paths import PROJECT


def test_the_viewer_s_status_words_are_the_service_s():
    script = "import('./web/js/text.js').then((m) => console.log(JSON.stringify(m.STATUS_WORDS)))"
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    words = json.loads(done.stdout)
    assert words == {"status": STATUS_LABELS, "mode": MODE_LABELS, "crowding": CROWDING_LABELS}
