"""What a staff password must not be, as NIST SP 800-63B (§3.1.1.2) asks a verifier to check.

Long enough (12 characters by default), not the login, not one character repeated or a run
like ``1234567890ab``, and not on a list of passwords attackers try first. No composition rules
(digits, symbols…): the guideline advises against them. The list is Django's
``common-passwords.txt.gz`` (20,000 common passwords, lower-cased, compiled by Royce Williams;
BSD-3-Clause, copied from Django 5.2.20 and refreshed with Django's releases): bundled, so no
password ever leaves the server to be checked.
"""

from __future__ import annotations

import gzip
import itertools
import unicodedata
from functools import cache
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lower-cased."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _is_run(text: str) -> bool:
    """One character repeated, or each the next (or previous) of the one before: ``aaaa``, ``4321``.

    Digits wrap (``…8901…``), as on a keyboard's number row.

    Examples
    --------
    >>> [_is_run(t) for t in ("aaaaaaaaaaaa", "123456789012", "zyxwvutsrqpo", "kishiwada-aed")]
    [True, True, True, False]
    """
    steps = set()
    for before, after in itertools.pairwise(text):
        step = ord(after) - ord(before)
        if before.isdigit() and after.isdigit():
            step = (step + 5) % 10 - 5  # 9 → 0 is +1
        steps.add(step)
    return len(steps) <= 1


def weakness(password: str, *, login: str, minimum: int) -> tuple[str, str] | None:
    """Why ``password`` may not be used (ja, en), or None when it may.

    Examples
    --------
    >>> weakness("password1234", login="a@b.jp", minimum=12)[1]
    'This password is on the list of passwords attackers try first: choose another'
    >>> weakness("            ", login="a@b.jp", minimum=12)[1]
    'A password of one character repeated or a run like 12345 is guessed at once'
    >>> weakness("kishiwada-aed-2026", login="a@b.jp", minimum=12) is None
    True
    """
    if len(password) < minimum or len(password) > MAX_LENGTH:
        return (
            f"パスワードは{minimum}文字以上（{MAX_LENGTH}文字以下）にしてください",
            f"Choose a password of at least {minimum} (at most {MAX_LENGTH}) characters",
        )
    folded = unicodedata.normalize("NFKC", password).strip().lower()
    if _is_run(folded or password):
        return (
            "同じ文字の繰り返しや 12345 のような並びは、すぐに推測されます",
            "A password of one character repeated or a run like 12345 is guessed at once",
        )
    name = login.strip().lower()
    if folded in (name, name.split("@")[0]):
        return ("ログインIDと同じパスワードは使えません", "The password may not be the login")
    if folded in common_passwords():
        return (
            "よく使われるパスワードの一覧にあるため使えません。別のものにしてください",
            "This password is on the list of passwords attackers try first: choose another",
        )
    return None
