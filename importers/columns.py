"""Match a file's column headers to a layer's attributes through the catalog's aliases."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from layers import Attribute, LayerDefinition

_SPACES = re.compile(r"[\s_\-・]+")


def header_key(header: str) -> str:
    """Comparable form of a header: NFKC (width), case and spaces/separators folded.

    Examples
    --------
    >>> header_key("施設 名称"), header_key("ＮＡＭＥ")
    ('施設名称', 'name')
    """
    return _SPACES.sub("", unicodedata.normalize("NFKC", header)).lower()


def match_columns(headers: Iterable[str], layer: LayerDefinition) -> dict[str, Attribute]:
    """Map each header that names an attribute to it; the first header wins per attribute.

    An alias matches exactly (after folding) or as a suffix, since some publishers prefix the
    standard names (``施設_名称``) while keeping the standard's words.

    Parameters
    ----------
    headers
        The file's column names, in order.
    layer
        The catalog entry whose attribute aliases are matched.

    Returns
    -------
    dict
        Header -> attribute, for the headers that name one; the others are left out.

    Examples
    --------
    >>> from layers import load_catalog
    >>> matched = match_columns(["名称", "住所", "独自の列"], load_catalog()["aed"])
    >>> sorted((header, attribute.name) for header, attribute in matched.items())
    [('住所', 'address'), ('名称', 'name')]
    """
    keys = [(attribute, header_key(a)) for attribute in layer.attributes for a in attribute.aliases]
    matched: dict[str, Attribute] = {}
    taken: set[str] = set()
    headers = list(headers)
    for exact in (True, False):
        for header in headers:
            if header in matched:
                continue
            folded = header_key(header)
            for attribute, key in keys:
                hit = folded == key if exact else len(key) > 1 and folded.endswith(key)
                if hit and attribute.name not in taken:
                    matched[header] = attribute
                    taken.add(attribute.name)
                    break
    return matched
