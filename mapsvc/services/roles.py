"""One role set for people and API keys: what each role may do, the same in portal, API and CLI.

A role is held for one municipality (``admin``: the prefecture's, over all of them). The rights
are not a ladder: ``status`` is the disaster board's right (a shelter open or full, a road
closed), which a duty officer may be given without uploading or publishing data.

- ``viewer`` reads drafts, reports and the published data.
- ``status`` also updates the disaster board.
- ``editor`` also uploads and fixes versions, and asks a publisher to publish one.
- ``publisher`` also publishes, rolls back and takes down, and updates the disaster board.
- ``admin`` (the prefecture's) does everything for every municipality and manages accounts,
  keys and the audit log.
"""

from __future__ import annotations

from mapsvc.db.models import ROLES as ROLES
from mapsvc.errors import InvalidParameter

VIEW, STATUS, UPLOAD, REQUEST, PUBLISH, ADMINISTER = (
    "view",
    "status",
    "upload",
    "request",
    "publish",
    "administer",
)
RIGHTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({VIEW}),
    "status": frozenset({VIEW, STATUS}),
    "editor": frozenset({VIEW, UPLOAD, REQUEST}),
    "publisher": frozenset({VIEW, UPLOAD, REQUEST, PUBLISH, STATUS}),
    "admin": frozenset({VIEW, UPLOAD, REQUEST, PUBLISH, STATUS, ADMINISTER}),
}


def allows(role: str | None, action: str) -> bool:
    """Whether ``role`` (None: no role there) gives the right to ``action``.

    Examples
    --------
    >>> allows("editor", "upload"), allows("editor", "publish"), allows("status", "status")
    (True, False, True)
    """
    return role is not None and action in RIGHTS[role]


def check_role(role: str) -> None:
    """Refuse a name that is not a role (400, naming the roles)."""
    if role not in ROLES:
        raise InvalidParameter(
            f"役割は {'・'.join(ROLES)} のどれかです",
            f"A role is one of {', '.join(ROLES)}, not {role!r}",
        )
