"""E-mailing one-time links, when a mail server is configured (``MAPSVC_STAFF__SMTP_HOST``)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Literal

from mapsvc.settings import Settings

log = logging.getLogger(__name__)
# What became of a link's mail: sent, not sent (no server, or the login is no address), or the
# server failed (then the link shown is the only copy: the person handing it over must know).
MailOutcome = Literal["sent", "not_sent", "failed"]

SUBJECT = "広域デジタルマップ 職員ポータル / Staff portal of the digital map"
BODY = """{name} 様

広域デジタルマップの職員ポータルのパスワードを、次のリンクから設定してください（{hours}時間有効・一回限り）。
{link}

Choose your password for the digital map's staff portal at the link above (valid {hours} hours,
once). If you did not expect this message, ignore it: nothing happens without the link.
"""


def send_link(settings: Settings, *, to: str, name: str, link: str) -> MailOutcome:
    """Mail ``link`` to ``to`` if a server is configured and ``to`` is an address.

    A server that is down or refuses is ``failed`` (logged), never an exception: the link has
    been committed by then and must still reach the person who hands it over.
    """
    body = BODY.format(name=name, link=link, hours=settings.staff.link_valid_h)
    return send(settings, to=to, subject=SUBJECT, body=body)


def send(settings: Settings, *, to: str, subject: str, body: str) -> MailOutcome:
    """Mail ``body`` to ``to`` if a server is configured and ``to`` is an address.

    Never raises for the server: its failure is ``failed``, logged.
    """
    config = settings.staff
    if not config.smtp_host or "@" not in to:  # unset, or set empty (compose's default)
        return "not_sent"
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as server:
            if config.smtp_starttls:
                server.starttls()
            if config.smtp_user and config.smtp_password:
                server.login(config.smtp_user, config.smtp_password.get_secret_value())
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:  # refused, unreachable, timed out, 5xx
        log.warning("could not mail %s via %s: %s", to, config.smtp_host, error)
        return "failed"
    return "sent"
