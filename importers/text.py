"""Decode text files the way Japanese files really come: BOM, then UTF-8, then CP932; never guess."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from importers.base import ImportRejected, Issue

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Excel's "CSV" is CP932, not Shift_JIS: ①, ㈱, 髙, 﨑 and Ⅲ only decode as CP932.
_ALIASES = {
    "shift_jis": "cp932",
    "sjis": "cp932",
    "shift-jis": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "utf-8": "utf-8-sig",
    "utf8": "utf-8-sig",
}


def normalise_encoding(name: str) -> str:
    """The codec to really use for a declared encoding name.

    Shift_JIS as declared by Japanese files is nearly always Microsoft's CP932 (with its NEC and
    IBM extensions: ①, ㈱, 髙); UTF-8 is read with an optional BOM.

    Examples
    --------
    >>> normalise_encoding("Shift_JIS"), normalise_encoding("SJIS"), normalise_encoding("utf8")
    ('cp932', 'cp932', 'utf-8-sig')
    """
    key = name.strip().lower()
    codec = _ALIASES.get(key, key)
    try:
        codecs.lookup(codec)
    except LookupError:
        raise ImportRejected(
            Issue(
                "unknown_encoding",
                f"文字コード「{name}」は使えません（UTF-8 か Shift_JIS を指定してください）",
                f"Unknown encoding {name!r} (use UTF-8 or Shift_JIS)",
            )
        ) from None
    return codec


def decode(data: bytes, encoding: str | None = None, *, name: str = "file") -> tuple[str, str]:
    r"""Decode ``data``; return the text and the codec used.

    Parameters
    ----------
    data
        The bytes of a text file.
    encoding
        The declared encoding; None detects it: a BOM, else UTF-8, else CP932.
    name
        What to call the file in messages.

    Returns
    -------
    tuple of (str, str)
        The text and the codec that decoded it.

    Raises
    ------
    ImportRejected
        If the bytes are not valid in the declared encoding, or in none of UTF-8 and CP932; the
        message gives the byte offset of the first bad byte.

    Examples
    --------
    >>> decode("岸和田".encode("cp932")), decode(b"\xef\xbb\xbfabc")
    (('岸和田', 'cp932'), ('abc', 'utf-8-sig'))
    """
    if encoding:
        codec = normalise_encoding(encoding)
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as exc:
            raise _undecodable(name, exc, codec) from None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise _undecodable(name, exc, codec) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        if not data[: utf8_error.start].isascii():
            # Valid multibyte UTF-8 before the bad byte: a damaged UTF-8 file, not CP932 (which
            # would decode "successfully" into mojibake).
            raise _undecodable(name, utf8_error, "UTF-8") from None
        try:
            return data.decode("cp932"), "cp932"
        except UnicodeDecodeError:
            raise _undecodable(name, utf8_error, "UTF-8 / Shift_JIS (CP932)") from None


def _undecodable(name: str, exc: UnicodeDecodeError, codec: str) -> ImportRejected:
    return ImportRejected(
        Issue(
            "undecodable_text",
            f"{name} の {exc.start} バイト目が {codec} として読めません。"
            "Excelで「CSV UTF-8」形式で保存し直してください",
            f"Byte {exc.start} of {name} is not valid {codec}. "
            'Save it again from Excel as "CSV UTF-8"',
            value=exc.object[exc.start : exc.start + 8].hex(" "),
        )
    )


def lines(text: str) -> Iterator[str]:
    r"""The lines of decoded ``text`` with their endings (a leading BOM dropped), as slices.

    For ``csv.reader``: neither a list of lines nor ``io.StringIO`` (which copies the text at
    four bytes a character) — a large file is never held twice.

    >>> list(lines("\ufeff名称,緯度\r\n市役所,34.46"))
    ['名称,緯度\r\n', '市役所,34.46']
    """
    start, end = (1 if text.startswith("\ufeff") else 0), len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop < 0 else stop + 1
        yield text[start:stop]
        start = stop
