"""E-mailing one-time links, when a mail server is configured (``MAPSVC_STAFF__SMTP_HOST``)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from mapsvc.settings import Settings

SUBJECT = "広域デジタルマップ 職員ポータル / Staff portal of the digital map"
BODY = """{name} 様

広域デジタルマップの職員ポータルのパスワードを、次のリンクから設定してください（{hours}時間有効・一回限り）。
{link}

Choose your password for the digital map's staff portal at the link above (valid {hours} hours,
once). If you did not expect this message, ignore it: nothing happens without the link.
"""


def send_link(settings: Settings, *, to: str, name: str, link: str) -> bool:
    """Mail ``link`` to ``to`` if a server is configured and ``to`` is an address (True if sent)."""
    body = BODY.format(name=name, link=link, hours=settings.staff.link_valid_h)
    return send(settings, to=to, subject=SUBJECT, body=body)


def send(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Mail ``body`` to ``to`` if a server is configured and ``to`` is an address (True if sent)."""
    config = settings.staff
    if not config.smtp_host or "@" not in to:  # unset, or set empty (compose's default)
        return False
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as server:
        if config.smtp_starttls:
            server.starttls()
        if config.smtp_user and config.smtp_password:
            server.login(config.smtp_user, config.smtp_password.get_secret_value())
        server.send_message(message)
    return True
