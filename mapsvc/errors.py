"""Domain errors, raised below the API and mapped to HTTP in one table."""

from __future__ import annotations


class MapsvcError(Exception):
    """An error a client can act on: a stable ``code`` and a message in Japanese and English."""

    code = "error"
    status = 400

    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en


class NotFound(MapsvcError):
    """The thing asked for does not exist."""

    code = "not_found"
    status = 404


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


class ConfigurationError(MapsvcError):
    """The service is missing a setting it needs for this request."""

    code = "configuration_error"
    status = 503
