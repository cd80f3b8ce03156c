"""Every domain error, with its HTTP status, ja/en message, headers and extra fields: one table.

Raised below the front ends (services, the catalog, the database driver) and turned into a
response by one handler (``mapsvc.api.errors``), a page by the staff portal and a message by the
CLI. Errors that other libraries raise (the catalog's ``LayerNotFound``; the database's, which
``mapsvc.db.errors`` registers with ``translate``) are translated by ``as_domain_error``, so every
front end shows them alike. No SQLAlchemy here: every front end imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from layers import LayerNotFound


class MapsvcError(Exception):
    """An error a client can act on: a stable ``code``, a status and a message in ja and en.

    ``headers`` go on the response as they are; ``extra`` fields join the JSON body.
    """

    code = "error"
    status = 400

    def __init__(
        self,
        message_ja: str,
        message_en: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any] | None:
        """The JSON body: ``{code, detail, message_ja, message_en}`` and the extra fields."""
        return {
            "code": self.code,
            "detail": self.message_en,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        } | self.extra


class NotFound(MapsvcError):
    """The thing asked for does not exist."""

    code = "not_found"
    status = 404


class MethodNotAllowed(MapsvcError):
    """The path exists, but not for this method (the Allow header lists those it has)."""

    code = "method_not_allowed"
    status = 405


class InvalidParameter(MapsvcError):
    """A query parameter is malformed or out of bounds."""

    code = "invalid_parameter"
    status = 400


class Conflict(MapsvcError):
    """The request contradicts the current state (e.g. rolling back to an unpublished version)."""

    code = "conflict"
    status = 409


class Unauthorized(MapsvcError):
    """No valid API key."""

    code = "unauthorized"
    status = 401


class Forbidden(MapsvcError):
    """A valid key that may not do this."""

    code = "forbidden"
    status = 403


class PayloadTooLarge(MapsvcError):
    """The request body is over the limit."""

    code = "payload_too_large"
    status = 413


class RequestTimeout(MapsvcError):
    """The request body stopped arriving."""

    code = "request_timeout"
    status = 408


class UploadRejected(MapsvcError):
    """The file was not staged; ``report`` says why, row by row."""

    code = "upload_rejected"
    status = 422

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(
            "ファイルを受け付けられませんでした。レポートの内容を直して、もう一度アップロードしてください",
            "The file was not accepted: fix what the report lists and upload it again",
            extra={"report": report},
        )
        self.report = report


class TooManyRequests(MapsvcError):
    """The client used its share: retry after ``retry_after`` seconds."""

    code = "too_many_requests"
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "リクエストが多すぎます。少し待ってからお試しください",
            "Too many requests: please wait a moment",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class NotModified(MapsvcError):
    """The client's copy is current: 304 with the validator and caching policy, no body."""

    code = "not_modified"
    status = 304

    def __init__(self, etag: str, cache_control: str) -> None:
        super().__init__(
            "更新はありません",
            "Not modified",
            headers={"ETag": etag, "Cache-Control": cache_control},
        )
        self.etag = etag

    def body(self) -> None:
        """A 304 has no body."""
        return None


class PreconditionFailed(MapsvcError):
    """The client's ``If-Match`` names a state that is no longer current (someone changed it).

    The response carries the current ETag, so the client can read the change and decide again.
    """

    code = "precondition_failed"
    status = 412

    def __init__(self, current_etag: str) -> None:
        super().__init__(
            "ほかの人が先に変更しました。最新の状態を読み込んでから、もう一度変更してください",
            "Someone else changed this first: read the current state, then change it again",
            headers={"ETag": current_etag},
            extra={"etag": current_etag},
        )


class PreconditionRequired(MapsvcError):
    """A change that must say which state it changes (``If-Match``) came without one."""

    code = "precondition_required"
    status = 428

    def __init__(self) -> None:
        super().__init__(
            "If-Match ヘッダーで、変更する前の状態（ETag）を指定してください",
            "Say which state you change: send the ETag you read in an If-Match header",
        )


class Busy(MapsvcError):
    """Every database connection is in use: come back shortly (never a 500)."""

    code = "busy"
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "混み合っています。少し待ってからもう一度お試しください",
            "Busy: please retry shortly",
            headers={"Retry-After": "2"},
        )


class Unavailable(MapsvcError):
    """The database (or another thing the service needs) does not answer."""

    code = "unavailable"
    status = 503

    def __init__(
        self,
        message_ja: str = "一時的に利用できません",
        message_en: str = "Temporarily unavailable: please retry shortly",
    ) -> None:
        super().__init__(message_ja, message_en, headers={"Retry-After": "5"})


class InternalError(MapsvcError):
    """A bug: the request met something nobody planned for (logged with its request id)."""

    code = "internal_error"
    status = 500

    def __init__(self) -> None:
        super().__init__(
            "サーバーで予期しないエラーが起きました。続くときは管理者にお知らせください",
            "The server met an unexpected error: if it happens again, tell the administrator",
        )


class ConfigurationError(MapsvcError):
    """The service is missing a setting it needs for this request."""

    code = "configuration_error"
    status = 503


def _layer_not_found(exc: Exception) -> MapsvcError:
    layer_id = exc.layer_id if isinstance(exc, LayerNotFound) else str(exc)
    return NotFound("そのレイヤーはありません", f"No layer {layer_id!r}")


Translation = Callable[[Exception], MapsvcError]
# Errors raised by the libraries below the services, and the domain error each one means. The
# database's are added by ``mapsvc.db.errors`` (SQLAlchemy is imported there, not here).
_TRANSLATIONS: dict[type[Exception], Translation] = {LayerNotFound: _layer_not_found}
TRANSLATED: Mapping[type[Exception], Translation] = MappingProxyType(_TRANSLATIONS)


def translate(kind: type[Exception], into: Translation) -> None:
    """From now on, ``as_domain_error`` answers an exception of ``kind`` with ``into(exc)``."""
    _TRANSLATIONS[kind] = into


def as_domain_error(exc: Exception) -> MapsvcError | None:
    """The domain error an exception stands for, or None when it is a bug (a real 500)."""
    if isinstance(exc, MapsvcError):
        return exc
    for kind, translate in TRANSLATED.items():
        if isinstance(exc, kind):
            return translate(exc)
    return None
