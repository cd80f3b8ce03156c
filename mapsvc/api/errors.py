"""Map domain errors and request-validation errors to one JSON error shape."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError

from layers import LayerNotFound
from mapsvc.api.caching import CACHE_CONTROL, NotModified
from mapsvc.api.ratelimit import TooManyRequests
from mapsvc.errors import MapsvcError
from mapsvc.services.uploads import UploadRejected


def _body(code: str, message_ja: str, message_en: str) -> dict[str, str]:
    return {"code": code, "detail": message_en, "message_ja": message_ja, "message_en": message_en}


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers: {code, detail, message_ja, message_en} for every client error."""

    @app.exception_handler(MapsvcError)
    async def domain_error(_: Request, exc: MapsvcError) -> JSONResponse:
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        )
        return JSONResponse(
            _body(exc.code, exc.message_ja, exc.message_en), status_code=exc.status, headers=headers
        )

    @app.exception_handler(UploadRejected)
    async def upload_rejected(_: Request, exc: UploadRejected) -> JSONResponse:
        body = _body(exc.code, exc.message_ja, exc.message_en) | {"report": exc.report}
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(NotModified)
    async def not_modified(_: Request, exc: NotModified) -> Response:
        return Response(status_code=304, headers={"ETag": exc.etag, "Cache-Control": CACHE_CONTROL})

    @app.exception_handler(SATimeoutError)
    async def pool_exhausted(_: Request, __: SATimeoutError) -> JSONResponse:
        # Every connection is busy: tell clients (and the proxy) to come back, never a 500.
        body = _body(
            "busy",
            "混み合っています。少し待ってからもう一度お試しください",
            "Busy: please retry shortly",
        )
        return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(OperationalError)
    async def database_unavailable(_: Request, __: OperationalError) -> JSONResponse:
        body = _body(
            "unavailable", "一時的に利用できません", "Temporarily unavailable: please retry shortly"
        )
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(LayerNotFound)
    async def layer_not_found(_: Request, exc: LayerNotFound) -> JSONResponse:
        body = _body("not_found", "そのレイヤーはありません", f"No layer {exc.layer_id!r}")
        return JSONResponse(body, status_code=404)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # OGC API answers malformed parameters with 400, not FastAPI's default 422.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()
        )
        body = _body("invalid_parameter", f"パラメータが正しくありません（{problems}）", problems)
        return JSONResponse(body, status_code=400)
