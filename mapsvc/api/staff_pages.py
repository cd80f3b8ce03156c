"""What every staff page shares: templates, language, the session cookie, sign-in and CSRF checks.

Pages are server-rendered (Jinja2, autoescaped: every value from a file or a person is inert)
and work without JavaScript; ``web/staff/static/`` holds the small ES modules that enhance
them. No page has inline script or style, so the app's CSP applies unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mapsvc.api.deps import SessionDep, SettingsDep
from mapsvc.api.staff_text import TEXT, translate
from mapsvc.errors import Forbidden, MapsvcError
from mapsvc.services.session import Session
from mapsvc.services.staff_sessions import StaffPrincipal, principal_for
from mapsvc.settings import Settings

SESSION_COOKIE = "mapsvc_staff"
LANG_COOKIE = "mapsvc_lang"
LOGIN_CSRF_COOKIE = "mapsvc_login_csrf"
TEMPLATES = Path(__file__).parent / "templates"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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


def language(request: Request) -> str:
    """``en`` or ``ja``: the ``lang`` query parameter, else the remembered choice, else ja."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "ja"


def secure_cookies(request: Request) -> bool:
    """Cookies are ``Secure`` except on plain http to this machine (a developer's own server)."""
    local = request.url.hostname in ("127.0.0.1", "localhost", "::1")
    return request.url.scheme == "https" or not local


def render(
    request: Request,
    template: str,
    *,
    principal: StaffPrincipal | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language (which is remembered when asked for by ``lang``)."""
    lang = language(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    page = environment.get_template(template).render(
        t=t, lang=lang, principal=principal, path=request.url.path, texts=TEXT, **context
    )
    response = HTMLResponse(page, status_code=status_code)
    if "lang" in request.query_params:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="lax",
            path="/staff",
            secure=secure_cookies(request),
        )
    return response


def error_page(request: Request, error: MapsvcError) -> Response:
    """A domain error on a staff path: a page in the person's language, or the sign-in page."""
    if error.status == 401 and request.method == "GET":
        return RedirectResponse(f"/staff/login?next={quote(request.url.path)}", status_code=303)
    key = "forbidden_title" if error.status == 403 else "error_title"
    response = render(
        request,
        "error.html",
        status_code=error.status,
        title_key=key,
        message=error.message_en if language(request) == "en" else error.message_ja,
    )
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


class SignInRequired(MapsvcError):
    """No live staff session: GET pages send the person to sign in."""

    code = "sign_in_required"
    status = 401


def current_staff(session: SessionDep, settings: SettingsDep, request: Request) -> StaffPrincipal:
    """The signed-in person (a write was already checked before its body was read)."""
    checked: StaffPrincipal | None = getattr(request.state, "staff", None)
    if checked is not None:
        return checked
    principal = staff_of(session, settings, request.headers.get("cookie", ""))
    if principal is None:
        raise SignInRequired(
            "ログインしてください（一定時間操作がないとログアウトします）",
            "Please sign in (sessions end after a while without use)",
        )
    return principal


StaffDep = Annotated[StaffPrincipal, Depends(current_staff)]


async def csrf_checked(principal: StaffDep, csrf: Annotated[str, Form()] = "") -> StaffPrincipal:
    """The signed-in person, once the form carries their session's CSRF token (else 403)."""
    if not principal.csrf_matches(csrf):
        raise Forbidden(
            "画面の有効期限が切れました。ページを開き直してから、もう一度操作してください",
            "This page has expired: open it again, then repeat what you did",
        )
    return principal


StaffWriteDep = Annotated[StaffPrincipal, Depends(csrf_checked)]


def need(principal: StaffPrincipal, action: str, code: str) -> None:
    """Refuse (403, with the reason) what the person's role for ``code`` does not allow."""
    if not principal.may(action, code):
        raise Forbidden(
            f"この市区町村（{code}）でこの操作をする権限がありません。府の管理者に役割を頼んでください",
            f"Your role does not allow this for municipality {code}: ask the prefecture's "
            "administrator",
        )
