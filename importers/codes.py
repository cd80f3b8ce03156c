"""全国地方公共団体コード (local government codes): check digits and normalisation to 6 digits."""

from __future__ import annotations

import unicodedata
from collections.abc import Container

_WEIGHTS = (6, 5, 4, 3, 2)


class InvalidCode(ValueError):
    """The value cannot be read as a local government code."""


def check_digit(code5: str) -> str:
    """Return the check digit of a 5-digit code (MIC's rule).

    >>> check_digit("27202")
    '7'
    """
    if len(code5) != 5 or not code5.isdigit():
        raise InvalidCode(code5)
    total = sum(int(d) * w for d, w in zip(code5, _WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def is_valid_code6(code: str) -> bool:
    """Whether ``code`` is 6 digits, of a prefecture 01–47, with a correct check digit.

    Examples
    --------
    >>> is_valid_code6("272027"), is_valid_code6("272028"), is_valid_code6("482027")
    (True, False, False)
    """
    return (
        len(code) == 6
        and code.isdigit()
        and 1 <= int(code[:2]) <= 47
        and check_digit(code[:5]) == code[5]
    )


def to_code6(value: object, known: Container[str] | None = None) -> str:
    """Normalise a code as found in real files to its 6-digit form.

    Accepts the 6-digit form, the 5-digit form without check digit (KSJ, GSI 共通ID) and the 6-digit
    form whose leading zero a spreadsheet dropped (``92011`` for ``092011``); digits may be
    full-width. A 5-digit value that could be either is resolved with ``known`` when given, else
    read as the KSJ form.

    Raises
    ------
    InvalidCode
        If no reading gives a valid code (or a code outside ``known``).

    >>> to_code6("27202"), to_code6(272027), to_code6("92011"), to_code6("２７２０２")
    ('272027', '272027', '092011', '272027')
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.endswith(".0"):  # a number that went through a spreadsheet float
        text = text[:-2]
    if not text.isdigit():
        raise InvalidCode(str(value))
    candidates: list[str] = []
    if len(text) == 6:
        candidates.append(text)
    elif len(text) == 5:
        candidates.append(text + check_digit(text))
        candidates.append("0" + text)
    elif len(text) == 4:  # a 5-digit code that lost its leading zero
        padded = "0" + text
        candidates.append(padded + check_digit(padded))
    valid = [c for c in candidates if is_valid_code6(c)]
    if known is not None:
        valid = [c for c in valid if c in known]
    if not valid:
        raise InvalidCode(str(value))
    return valid[0]


def to_code5(code6: str) -> str:
    """Drop the check digit: the form used by KSJ files and inside GSI's 共通ID.

    Examples
    --------
    >>> to_code5("272027")
    '27202'
    """
    return code6[:5]
