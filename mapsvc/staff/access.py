"""Who may do what in the staff portal: one gate for who, one dependency per action for what.

- Who: ``StaffGate`` is asked by the edge (``mapsvc.edge.credentials_first``) for every staff
  path but signing in, choosing a password and the static files, before any body is read; the
  person found is left in the request state.
- What: a route takes its person and municipality through ``StaffDep``, ``StaffAdminDep`` or
  ``StaffMunicipality(action)``, which refuse what the person's role does not allow (403, with
  the reason) and a form without the session's CSRF token. Authorisation cannot be forgotten:
  no route gets a municipality code any other way.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Path, Request
from starlette.datastructures import Headers

from mapsvc.api.deps import session_outside_routes
from mapsvc.api.routers.datasets import parse_code
from mapsvc.errors import Forbidden, MapsvcError
from mapsvc.services.session import Session
from mapsvc.services.staff_sessions import StaffPrincipal, principal_for
from mapsvc.settings import Settings

SESSION_COOKIE = "mapsvc_staff"
OPEN_PATHS = ("/staff/login", "/staff/setup/", "/staff/static/")  # no session needed
PREFECTURE = "270008"
SAFE_METHODS = ("GET", "HEAD")


class SignInRequired(MapsvcError):
    """No live staff session: people are sent to sign in."""

    code = "sign_in_required"
    status = 401


def session_cookies(cookie_header: str) -> list[str]:
    """Every value of the session cookie in a Cookie header.

    A browser may send several (a planted duplicate among them): none may shadow the real one.

    Examples
    --------
    >>> session_cookies("mapsvc_lang=en; mapsvc_staff=planted; mapsvc_staff=real")
    ['planted', 'real']
    """
    pairs = (part.strip().split("=", 1) for part in cookie_header.split(";") if "=" in part)
    return [value for name, value in pairs if name == SESSION_COOKIE and value]


def staff_of(session: Session, settings: Settings, cookie_header: str) -> StaffPrincipal | None:
    """The person of the first live session among the request's session cookies."""
    found = (principal_for(session, settings, t) for t in session_cookies(cookie_header))
    return next((p for p in found if p is not None), None)


class StaffGate:
    """Every staff path but the open ones needs a live session (found before the body is read)."""

    state_key = "staff"

    def covers(self, method: str, path: str) -> bool:  # noqa: ARG002 - every method
        """A staff path that is not open to everyone, whatever the method."""
        return path.startswith("/staff/") and not path.startswith(OPEN_PATHS)

    def identify(self, app: Any, headers: Headers) -> StaffPrincipal:
        """The signed-in person (SignInRequired when no cookie is a live session)."""
        with session_outside_routes(app, "/staff/") as session:  # the portal's own pool
            principal = staff_of(session, app.state.settings, "; ".join(headers.getlist("cookie")))
        if principal is None:
            raise SignInRequired(
                "ログインしてください（一定時間操作がないとログアウトします）",
                "Please sign in (sessions end after a while without use)",
            )
        return principal

    def sign_in_page(self, method: str, path: str) -> str:
        """The sign-in page; a page that was asked for is opened again after it."""
        return f"/staff/login?next={quote(path)}" if method in SAFE_METHODS else "/staff/login"


async def signed_in(request: Request, csrf: Annotated[str | None, Form()] = None) -> StaffPrincipal:
    """The signed-in person the gate found; a form must carry their session's CSRF token."""
    principal: StaffPrincipal | None = getattr(request.state, StaffGate.state_key, None)
    if principal is None:  # a staff path the gate does not cover: a route there is a bug
        raise SignInRequired("ログインしてください", "Please sign in")
    if request.method not in SAFE_METHODS and not principal.csrf_matches(csrf):
        raise Forbidden(
            "画面の有効期限が切れました。ページを開き直してから、もう一度操作してください",
            "This page has expired: open it again, then repeat what you did",
        )
    return principal


StaffDep = Annotated[StaffPrincipal, Depends(signed_in)]


def require(principal: StaffPrincipal, action: str, code: str) -> None:
    """Refuse (403, with the reason) what the person's role for ``code`` does not allow."""
    if not principal.may(action, code):
        raise Forbidden(
            f"この市区町村（{code}）でこの操作をする権限がありません。府の管理者に役割を頼んでください",
            f"Your role does not allow this for municipality {code}: ask the prefecture's "
            "administrator",
        )


def StaffMunicipality(action: str) -> Any:
    """The path's municipality as a 6-digit code, once the person may ``action`` there."""

    async def allowed(
        principal: StaffDep,
        municipality: Annotated[str, Path(description="6-digit local government code")],
    ) -> str:
        code = parse_code(municipality)
        require(principal, action, code)
        return code

    return Depends(allowed)


async def administrator(principal: StaffDep) -> StaffPrincipal:
    """The signed-in person, if they administer the prefecture (else 403)."""
    require(principal, "administer", PREFECTURE)
    return principal


StaffAdminDep = Annotated[StaffPrincipal, Depends(administrator)]
