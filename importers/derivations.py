"""Attributes computed from others, named by layer definitions' ``derive`` lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from importers.base import JSONValue

Properties = dict[str, JSONValue]


def gsi_welfare_shelter(properties: Properties) -> None:
    """Set ``is_welfare`` from GSI's 共通ID when the file has no explicit column.

    The 13th character of the 14-character ID is the shelter's minor type: ``2`` is a welfare
    shelter (福祉避難所), ``1`` a general one.

    Examples
    --------
    >>> properties = {"common_id": "27202000000120"}
    >>> gsi_welfare_shelter(properties)
    >>> properties["is_welfare"]
    True
    """
    common_id = properties.get("common_id")
    if properties.get("is_welfare") is None and isinstance(common_id, str) and len(common_id) == 14:
        properties["is_welfare"] = common_id[12] == "2"


def aed_on_fire_engine(properties: Properties) -> None:
    """Flag AEDs carried on fire engines (消防車両積載): unusable while the engine is out.

    Examples
    --------
    >>> properties = {"location_detail": "消防車両積載※出動時は使用不可"}
    >>> aed_on_fire_engine(properties)
    >>> properties["on_fire_engine"]
    True
    """
    if properties.get("on_fire_engine") is not None:
        return
    text = " ".join(str(properties.get(key) or "") for key in ("location_detail", "note"))
    if "消防車" in text or "出動時は使用不可" in text:
        properties["on_fire_engine"] = True  # otherwise left out: not a "no" on every popup


DERIVATIONS: Mapping[str, Callable[[Properties], None]] = {
    "gsi_welfare_shelter": gsi_welfare_shelter,
    "aed_on_fire_engine": aed_on_fire_engine,
}
