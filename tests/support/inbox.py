"""A mail server on loopback that keeps what it receives (aiosmtpd), for the portal's mail."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from mapsvc.settings import Settings


@contextmanager
def inbox(settings: Settings) -> Iterator[tuple[Settings, list[tuple[list[str], EmailMessage]]]]:
    """Settings that mail to a fresh local server, and the (recipients, message) it receives."""
    from aiosmtpd.controller import Controller

    received: list[tuple[list[str], EmailMessage]] = []

    class Inbox:
        async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd calls it so
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            received.append((list(envelope.rcpt_tos), message))
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd checks its own by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        staff = settings.staff.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_starttls": False,
                "smtp_from": "map@pref.osaka.lg.jp",
            }
        )
        yield settings.model_copy(update={"staff": staff}), received
    finally:
        controller.stop()
