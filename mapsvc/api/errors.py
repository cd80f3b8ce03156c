"""One handler turns every domain error (and FastAPI's parameter errors) into its response.

JSON, except under the paths another front end claims with its own page (the staff portal's
``error_page``, handed over by the composition root: the JSON API never imports the portal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mapsvc.errors import (
    TRANSLATED,
    InvalidParameter,
    MapsvcError,
    MethodNotAllowed,
    NotFound,
    as_domain_error,
)


def error_response(error: MapsvcError) -> Response:
    """The response of a domain error, as ``mapsvc.errors`` describes it."""
    body = error.body()
    if body is None:
        return Response(status_code=error.status, headers=error.headers)
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _parameter_error(exc: RequestValidationError) -> InvalidParameter:
    # OGC API answers malformed parameters with 400, not FastAPI's default 422.
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
    )
    return InvalidParameter(f"パラメータが正しくありません（{problems}）", problems)


def _http_error(exc: StarletteHTTPException) -> MapsvcError:
    # Starlette's own 404/405 (no such route or file) and 400s (a multipart body it cannot
    # parse) get the documented error shape too.
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return NotFound("見つかりません", "Not found", headers=headers)
    if exc.status_code == 405:
        allowed = headers.get("Allow", "")
        return MethodNotAllowed(
            f"このメソッドは使えません（使えるもの：{allowed}）",
            f"Method not allowed (allowed: {allowed})",
            headers=headers,
        )
    kind = InvalidParameter if exc.status_code == 400 else MapsvcError
    error = kind(
        f"リクエストが正しくありません（{exc.detail}）",
        f"Bad request: {exc.detail}",
        headers=headers,
    )
    error.status = exc.status_code  # whatever Starlette chose, in the documented shape
    return error


ErrorPage = Callable[[Request, MapsvcError], Response]


def domain_error(exc: Exception) -> MapsvcError | None:
    """What the table makes of an exception the handler is registered for (None: a bug)."""
    if isinstance(exc, RequestValidationError):
        return _parameter_error(exc)
    if isinstance(exc, StarletteHTTPException):
        return _http_error(exc)
    return as_domain_error(exc)


def handler(pages: Mapping[str, ErrorPage]) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The one exception handler; ``pages``: a path prefix and how errors there are shown."""

    async def handle(request: Request, exc: Exception) -> Response:
        error = domain_error(exc)
        if error is None:  # registered only for the table's errors, so this is a bug: a real 500
            raise exc
        path = request.url.path
        for prefix, page in pages.items():
            if path == prefix.rstrip("/") or path.startswith(prefix):
                return page(request, error)  # people read these: a page, in their language
        return error_response(error)

    return handle


def add_exception_handlers(
    app: FastAPI, pages: Mapping[str, ErrorPage]
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Register the handler for the domain errors, the translated ones and parameter errors.

    Returned too, for the edge's last resort (``UnexpectedErrors``) to answer bugs with.
    """
    handle = handler(pages)
    for kind in (MapsvcError, RequestValidationError, StarletteHTTPException, *TRANSLATED):
        app.add_exception_handler(kind, handle)
    return handle
