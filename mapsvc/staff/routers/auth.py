"""Staff sign-in, sign-out and choosing a password through a one-time link."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Callable
from functools import partial
from typing import Annotated, TypeVar

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mapsvc.api.deps import SessionDep, SettingsDep
from mapsvc.errors import Busy, InvalidParameter, TooManyRequests, Unauthorized
from mapsvc.services import accounts, staff_sessions
from mapsvc.settings import Settings
from mapsvc.staff.access import SESSION_COOKIE, StaffDep, session_cookies
from mapsvc.staff.pages import LOGIN_CSRF_COOKIE, language, render, secure_cookies
from mapsvc.staff.text import translate

T = TypeVar("T")

router = APIRouter(prefix="/staff", include_in_schema=False)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _safe_next(target: str) -> str:
    """Only our own staff pages are followed after sign-in (no open redirect)."""
    return target if target.startswith("/staff/") and not target.startswith("//") else "/staff/"


def _login_page(
    request: Request,
    *,
    status_code: int = 200,
    problem: str = "",
    notice: str = "",
    login: str = "",
    next_page: str = "/staff/",
) -> Response:
    # Double-submit token: a page elsewhere cannot sign a browser in as someone else.
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        problem=problem,
        notice=notice,
        login=login,
        next=next_page,
        login_csrf=token,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/staff/login",
        secure=secure_cookies(request),
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/staff/") -> Response:
    """The sign-in form."""
    return _login_page(request, next_page=_safe_next(next))


async def _one_of_few(request: Request, work: Callable[[], T]) -> T:
    """Run ``work`` in a thread once one of the worker's few sign-in places is free.

    The wait holds no thread: a flood of sign-ins queues here, not in the thread pool that the
    residents' reads need (Busy after ``hash_wait_s``).
    """
    settings: Settings = request.app.state.settings
    places: asyncio.Semaphore = request.app.state.sign_in_places
    try:
        await asyncio.wait_for(places.acquire(), settings.staff.hash_wait_s)
    except TimeoutError:
        raise Busy() from None
    try:
        return await run_in_threadpool(work)
    finally:
        places.release()


@router.post("/login")
async def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    login: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/staff/",
    expected: Annotated[str | None, Cookie(alias=LOGIN_CSRF_COOKIE)] = None,
) -> Response:
    """Check the password; on success a new session (a fresh id) and its cookie."""
    lang = language(request)
    if not expected or not hmac.compare_digest(expected, csrf):
        return _login_page(
            request,
            status_code=403,
            login=login,
            next_page=_safe_next(next),
            problem=translate("error_title", lang),
        )
    try:
        token, _ = await _one_of_few(
            request,
            partial(
                staff_sessions.sign_in,
                session,
                settings,
                login=login,
                password=password,
                address=_client_address(request),
                ending=session_cookies(request.headers.get("cookie", "")),  # this browser's
            ),
        )
    except (Unauthorized, TooManyRequests) as refused:
        message = refused.message_en if lang == "en" else refused.message_ja
        page = _login_page(
            request,
            status_code=refused.status,
            problem=message,
            login=login,
            next_page=_safe_next(next),
        )
        page.headers.update(refused.headers)
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path="/staff",
        secure=secure_cookies(request),
        max_age=settings.staff.absolute_timeout_h * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/login")
    return response


@router.post("/logout")
def sign_out(
    request: Request,
    session: SessionDep,
    principal: StaffDep,
    token: Annotated[str, Cookie(alias=SESSION_COOKIE)] = "",
    everywhere: Annotated[bool, Form()] = False,
) -> Response:
    """End this session (or all of the person's), and forget the cookie."""
    staff_sessions.sign_out(session, principal, token, everywhere=everywhere)
    response = render(
        request,
        "message.html",
        message=translate("signed_out", language(request)),
        link="/staff/login",
        link_text=translate("sign_in", language(request)),
    )
    response.delete_cookie(SESSION_COOKIE, path="/staff")
    return response


@router.get("/setup/{token}")
def setup_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> Response:
    """Choose a password through an invitation or reset link (404 page if spent or expired)."""
    account = accounts.link_account(session, token)
    return render(
        request,
        "setup.html",
        account=account,
        token=token,
        minimum=settings.staff.min_password_length,
        problem="",
    )


@router.post("/setup/{token}")
def set_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)],
    again: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Set the password; the link is spent, every older session of the account ends."""
    lang = language(request)
    try:
        if password != again:
            raise InvalidParameter(
                translate("passwords_differ", "ja"), translate("passwords_differ", "en")
            )
        accounts.choose_password(session, settings, token, password)
    except InvalidParameter as bad:
        account = accounts.link_account(session, token)
        return render(
            request,
            "setup.html",
            status_code=400,
            account=account,
            token=token,
            minimum=settings.staff.min_password_length,
            problem=bad.message_en if lang == "en" else bad.message_ja,
        )
    return render(
        request,
        "message.html",
        message=translate("password_set", lang),
        link="/staff/login",
        link_text=translate("sign_in", lang),
    )
