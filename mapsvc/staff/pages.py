"""What every staff page shares: templates, language, cookies, error pages.

Pages are server-rendered (Jinja2, autoescaped: every value from a file or a person is inert)
and work without JavaScript; ``static/`` beside this module holds the small ES modules that
enhance them (served at ``/staff/static/``). No page has inline script or style, so the app's
CSP applies unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mapsvc.errors import MapsvcError
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.services.views import Words
from mapsvc.staff.text import TEXT, label, translate

LANG_COOKIE = "mapsvc_lang"
LOGIN_CSRF_COOKIE = "mapsvc_login_csrf"
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: Request) -> str:
    """``en`` or ``ja``: the ``lang`` query parameter, else the remembered choice, else ja."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "ja"


def secure_cookies(request: Request) -> bool:
    """Cookies are ``Secure`` except on plain http to this machine (a developer's own server)."""
    local = request.url.hostname in ("127.0.0.1", "localhost", "::1")
    return request.url.scheme == "https" or not local


def page_context(request: Request, principal: StaffPrincipal | None) -> dict[str, Any]:
    """What every template may use: the words in the request's language, the person, the path."""
    lang = language(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    def pick(words: Words) -> str:  # a name the use cases give in both languages
        return words.en if lang == "en" else words.ja

    def word(kind: str, code: object) -> str:  # a stored code (audit, fix log) in words
        return label(kind, code, lang)

    return {
        "t": t,
        "pick": pick,
        "word": word,
        "lang": lang,
        "principal": principal,
        "path": request.url.path,
        "texts": TEXT,
    }


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
    page = environment.get_template(template).render(**page_context(request, principal), **context)
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
    message = error.message_en if language(request) == "en" else error.message_ja
    response: Response
    if "application/json" in request.headers.get("accept", ""):  # a page's script asked
        body = (error.body() or {}) | {"message": message}
        response = Response(orjson.dumps(body), error.status, media_type="application/json")
    else:
        response = render(
            request, "error.html", status_code=error.status, title_key=key, message=message
        )
    for name, value in error.headers.items():
        response.headers[name] = value
    return response
