"""Normalise one cell to the type its catalog attribute declares."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

from importers.base import JSONValue
from importers.codes import InvalidCode, to_code6
from layers import Attribute, AttributeType

_TRUE = {"1", "○", "〇", "◯", "有", "有り", "あり", "true", "yes", "y", "t", "はい"}
_FALSE = {
    "",
    "×",
    "✕",
    "-",
    "−",
    "ー",
    "―",
    "0",
    "無",
    "無し",
    "なし",
    "false",
    "no",
    "n",
    "f",
    "いいえ",
}
_CONDITIONAL = {"△"}
# Compare in NFKC form, so that full-width "１" or "ＴＲＵＥ" read like their ASCII forms.
_TRUE_KEYS = {unicodedata.normalize("NFKC", t).lower() for t in _TRUE}
_FALSE_KEYS = {unicodedata.normalize("NFKC", f).lower() for f in _FALSE}


class CellError(ValueError):
    """The cell does not fit its attribute; the messages say what was expected (ja, en)."""

    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en


def _text(value: object) -> str:
    if isinstance(value, str):  # most cells: no str() call
        return value.strip()
    return "" if value is None else str(value).strip()


def _digits(value: object) -> str:
    # NFKC only where a number is expected: it turns full-width digits and signs into ASCII.
    return unicodedata.normalize("NFKC", _text(value)).replace(",", "")


def to_flag(value: object) -> JSONValue:
    """1/○/有/TRUE -> True; blank/×/-/0 -> False; △ -> "conditional".

    >>> to_flag("○"), to_flag(""), to_flag("△"), to_flag(1)
    (True, False, 'conditional', True)
    """
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", _text(value)).lower()
    if text in _TRUE_KEYS:
        return True
    if text in _FALSE_KEYS:
        return False
    if _text(value) in _CONDITIONAL:
        return "conditional"
    raise CellError(
        "「1・○・有」（該当）か「空欄・×・0」（非該当）、「△」（条件付き）で入力してください",
        "Use 1, ○ or 有 for yes; blank, × or 0 for no; △ for conditional",
    )


def to_integer(value: object) -> JSONValue:
    """A whole number; full-width digits and thousands separators accepted.

    >>> to_integer("１,２００"), to_integer(35.0)
    (1200, 35)
    """
    if value is None or _text(value) == "":
        return None
    try:
        number = float(_digits(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number):
        raise CellError("整数を入力してください", "Enter a whole number")
    return int(number)


def to_number(value: object) -> JSONValue:
    """A finite decimal number; NaN and Infinity are errors.

    >>> to_number("12.5")
    12.5
    """
    if value is None or _text(value) == "":
        return None
    try:
        number = float(_digits(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise CellError("数値を入力してください", "Enter a number")
    return number


# "www.example.jp/path": a host name and nothing that could be another scheme.
_BARE_WEB_ADDRESS = re.compile(r"^www\.[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/[^\s]*)?$")


def to_url(value: object) -> JSONValue:
    """An http(s) URL; anything else (javascript:, data:) is refused: it ends up in a link.

    >>> to_url("https://example.jp/aed")
    'https://example.jp/aed'
    >>> to_url("www.tonkira.jp")  # a web address written without its scheme, as lists do
    'http://www.tonkira.jp'
    >>> to_url("javascript:alert(1)")
    Traceback (most recent call last):
    ...
    importers.cells.CellError: Enter a URL starting with http:// or https://
    """
    text = _text(value)
    if not text:
        return None
    if _BARE_WEB_ADDRESS.match(text):
        return "http://" + text
    if not text.lower().startswith(("http://", "https://")):
        raise CellError(
            "http:// または https:// で始まるURLを入力してください",
            "Enter a URL starting with http:// or https://",
        )
    return text


def to_phone(value: object) -> JSONValue:
    """Digits and hyphens, NFKC-normalised so that tel: links work.

    >>> to_phone("０７２－４２３－２１２１")
    '072-423-2121'
    """
    text = _digits(value)
    return text or None


def to_string(value: object) -> JSONValue:
    """Text as given (trimmed); stored verbatim, escaped only on output.

    >>> to_string("  <b>梅田</b>  ")
    '<b>梅田</b>'
    """
    return _text(value) or None


def to_municipality_code(value: object) -> JSONValue:
    """5 or 6 digits -> the 6-digit code with check digit.

    >>> to_municipality_code("27202"), to_municipality_code(272027)
    ('272027', '272027')
    """
    if _text(value) == "":
        return None
    try:
        return to_code6(value)
    except InvalidCode:
        raise CellError(
            "6桁の全国地方公共団体コード（例 272027）を入力してください",
            "Enter a 6-digit local government code (e.g. 272027)",
        ) from None


_CONVERTERS: dict[AttributeType, Callable[[object], JSONValue]] = {
    AttributeType.STRING: to_string,
    AttributeType.INTEGER: to_integer,
    AttributeType.NUMBER: to_number,
    AttributeType.FLAG: to_flag,
    AttributeType.URL: to_url,
    AttributeType.PHONE: to_phone,
    AttributeType.DATE: to_string,
    AttributeType.MUNICIPALITY_CODE: to_municipality_code,
}


def convert(attribute: Attribute, value: object) -> JSONValue:
    """Normalise ``value`` for ``attribute`` (by its type, enum values and labels).

    Raises
    ------
    CellError
        If the value does not fit; the message names what was expected.

    Examples
    --------
    >>> from layers import load_catalog
    >>> sites = load_catalog()["evacuation_sites"]
    >>> convert(sites.attribute("flood"), "○"), convert(sites.attribute("capacity"), "１２０")
    (True, 120)
    """
    return converter(attribute)(value)


def converter(attribute: Attribute) -> Callable[[object], JSONValue]:
    """``convert`` for one attribute, its enum lookups built once (a file converts many rows)."""
    if attribute.type is not AttributeType.ENUM:
        return _CONVERTERS[attribute.type]
    allowed = {v.value for v in attribute.values}
    labels = {v.label.ja: v.value for v in attribute.values} | {
        v.label.en.lower(): v.value for v in attribute.values
    }
    choices = "、".join(f"{v.value}（{v.label.ja}）" for v in attribute.values)
    choices_en = ", ".join(f"{v.value} ({v.label.en})" for v in attribute.values)

    def to_enum(value: object) -> JSONValue:
        text = _digits(value)
        if text == "":
            return None
        if text in allowed:
            return text
        if (found := labels.get(_text(value)) or labels.get(_text(value).lower())) is not None:
            return found
        raise CellError(f"次のいずれかを入力してください：{choices}", f"Use one of: {choices_en}")

    return to_enum
