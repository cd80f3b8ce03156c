"""The JSON API's credentials: a dataset write's API key is checked before its body is read.

``mapsvc.edge.credentials_first`` asks this gate; ``deps.get_principal`` reads what it found.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers

from mapsvc.api.deps import session_outside_routes
from mapsvc.services.keys import Principal, auth_secret, authenticate, presented_key

WRITE_METHODS = ("POST", "PUT", "PATCH")


class ApiKeyGate:
    """Dataset writes (``/api/datasets/``) need a valid API key."""

    state_key = "principal"

    def covers(self, method: str, path: str) -> bool:
        """A write to a dataset."""
        return method in WRITE_METHODS and path.startswith("/api/datasets/")

    def identify(self, app: Any, headers: Headers) -> Principal:
        """The key's principal (Unauthorized if there is none)."""
        key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
        with session_outside_routes(app) as session:
            return authenticate(session, auth_secret(app.state.settings), key)

    def sign_in_page(self, method: str, path: str) -> None:  # noqa: ARG002 - the Gate's signature
        """Machines get the error's JSON."""
        return None
