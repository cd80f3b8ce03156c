"""Attributes computed from others, named by layer definitions' ``derive`` lists."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

import orjson

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
    for key in ("location_detail", "note"):
        text = properties.get(key)
        if isinstance(text, str) and ("消防車" in text or "出動時は使用不可" in text):
            properties["on_fire_engine"] = True  # otherwise left out: not a "no" on every popup
            return


_WHOLE_WEEK = frozenset("月火水木金土日")
_ALL_DAY = {("0:00", "24:00"), ("00:00", "24:00"), ("0:00", "23:59"), ("00:00", "23:59")}
_CLOSED_WORDS = ("利用不可", "使用不可", "休館")


def aed_limited_hours(properties: Properties) -> None:
    """Flag AEDs the data says are not reachable at all hours (``limited_hours``).

    A building open on some days only (``days`` without all seven), for some hours only
    (``opens``–``closes`` short of 0:00–24:00), or whose note says when it cannot be used
    (利用不可, 休館). Without any of these columns the AED is left unflagged: unknown is not
    "limited", and not "always" either.

    Examples
    --------
    >>> [aed_limited_hours(p := dict(row)) or p.get("limited_hours") for row in (
    ...     {"days": "月火水木金", "opens": "0:00", "closes": "24:00"},
    ...     {"days": "月火水木金土日", "opens": "08:45", "closes": "17:15"},
    ...     {"hours_note": "土・日・祝及び年末年始（12月29日～1月3日）は利用不可"},
    ...     {"days": "月火水木金土日", "opens": "0:00", "closes": "24:00 "},
    ...     {"hours_note": "24時間利用可能"},
    ...     {})]
    [True, True, True, None, None, None]
    """
    if properties.get("limited_hours") is not None:
        return
    days, opens, closes, note = (
        unicodedata.normalize("NFKC", str(properties.get(key) or "")).strip()
        for key in ("days", "opens", "closes", "hours_note")
    )
    if (
        (days and not _WHOLE_WEEK.issubset(days))
        or (opens and closes and (opens, closes) not in _ALL_DAY)
        or any(word in note for word in _CLOSED_WORDS)
    ):
        properties["limited_hours"] = True  # otherwise left out, as on_fire_engine


def _entries(value: JSONValue) -> list[dict[str, JSONValue]]:
    """PLATEAU's per-building risk list (a JSON array, or its text as GDAL hands it over)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _measure(text: object) -> float | None:
    """``"0.94 m"`` / ``"4.9667 hour"`` -> the number."""
    try:
        return float(str(text).split()[0])
    except (ValueError, IndexError):
        return None


def _deepest(entries: list[dict[str, JSONValue]], prefix: str, properties: Properties) -> None:
    """The deepest of several rivers' (or scenarios') ranks and depths, as ``<prefix>_…``."""
    ranked = [e for e in entries if str(e.get("rank", "")).isdigit()]
    if ranked:
        properties[f"{prefix}_rank"] = str(max(int(str(e["rank"])) for e in ranked))
    depths = [d for e in entries if (d := _measure(e.get("depth"))) is not None]
    if depths:
        properties[f"{prefix}_depth_m"] = round(max(depths), 2)


def plateau_river_flood(properties: Properties) -> None:
    """Flatten PLATEAU's ``river`` list: deepest rank and depth per scale, longest duration.

    ``scale`` 1 is the planned scale (計画規模, L1), 2 the maximum (想定最大規模, L2); ranks are
    MLIT's classes (1: under 0.5 m … 6: 20 m or more), as the depths confirm.

    Examples
    --------
    >>> p = {"river": '[{"rank": "1", "depth": "0.389 m", "scale": "1"},'
    ...               ' {"rank": "2", "depth": "0.94 m", "scale": "2", "duration": "4.9667 hour"}]'}
    >>> plateau_river_flood(p)
    >>> p["flood_planned_rank"], p["flood_planned_depth_m"], p["flood_max_rank"], p["flood_max_depth_m"]
    ('1', 0.39, '2', 0.94)
    >>> p["flood_duration_h"], "river" in p
    (5.0, False)
    """
    entries = _entries(properties.pop("river", None))
    _deepest([e for e in entries if str(e.get("scale")) == "1"], "flood_planned", properties)
    _deepest([e for e in entries if str(e.get("scale")) == "2"], "flood_max", properties)
    durations = [d for e in entries if (d := _measure(e.get("duration"))) is not None]
    if durations:
        properties["flood_duration_h"] = round(max(durations), 1)


def plateau_tsunami_storm_surge(properties: Properties) -> None:
    """Flatten PLATEAU's ``tsunami`` and ``hightide`` lists; ``worst_rank`` colours the map.

    Examples
    --------
    >>> p = {"tsunami": '[{"rank": "1", "depth": "0.13 m"}]',
    ...      "hightide": '[{"rank": "3", "depth": "3.68 m"}]'}
    >>> plateau_tsunami_storm_surge(p)
    >>> p["tsunami_rank"], p["tsunami_depth_m"], p["storm_surge_rank"], p["worst_rank"]
    ('1', 0.13, '3', '3')
    """
    _deepest(_entries(properties.pop("tsunami", None)), "tsunami", properties)
    _deepest(_entries(properties.pop("hightide", None)), "storm_surge", properties)
    ranks = [str(properties[k]) for k in ("tsunami_rank", "storm_surge_rank") if k in properties]
    if ranks:
        properties["worst_rank"] = max(ranks)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# MLIT's legends, by the lower bound where each class after the first starts (in metres).
_TSUNAMI_LOWER_BOUNDS = (0.3, 1, 2, 5, 10, 20)
_STORM_SURGE_LOWER_BOUNDS = (0.3, 0.5, 1, 3, 5, 10, 20)


def _depth_class(properties: Properties, lower_bounds: tuple[float, ...]) -> None:
    """``depth_class`` from a ``depth_range`` text worded as each prefecture's report words it.

    The lower bound decides ("0.3m以上1.0m未満" starts at 0.3 m; "0.3m未満" at 0).
    """
    text = unicodedata.normalize("NFKC", str(properties.get("depth_range") or ""))
    numbers = [float(n) for n in _NUMBER.findall(text)]
    if not numbers:
        return
    lower = numbers[0] if "以上" in text or len(numbers) > 1 else 0.0
    if "未満" in text and "以上" not in text:
        lower = 0.0
    properties["depth_class"] = str(1 + sum(lower >= bound for bound in lower_bounds))


def tsunami_depth_class(properties: Properties) -> None:
    """A KSJ A40 zone's class (MLIT's tsunami legend, seven classes from 0.3 m).

    Examples
    --------
    >>> [tsunami_depth_class(p := {"depth_range": text}) or p["depth_class"]
    ...  for text in ("0.3m未満", "0.01m以上0.3m未満", "０．３ｍ以上１．０ｍ未満", "3m以上5m未満", "20m以上")]
    ['1', '1', '2', '4', '7']
    """
    _depth_class(properties, _TSUNAMI_LOWER_BOUNDS)


def storm_surge_depth_class(properties: Properties) -> None:
    """A KSJ A49 zone's class (高潮浸水想定区域: 0.3, 0.5, 1, 3, 5, 10 and 20 m bounds).

    Examples
    --------
    >>> [storm_surge_depth_class(p := {"depth_range": text}) or p["depth_class"]
    ...  for text in ("0.3m未満", "0.3m以上0.5m未満", "1m以上3m未満", "5m以上10m未満", "20m以上")]
    ['1', '2', '4', '6', '8']
    """
    _depth_class(properties, _STORM_SURGE_LOWER_BOUNDS)


DERIVATIONS: Mapping[str, Callable[[Properties], None]] = {
    "gsi_welfare_shelter": gsi_welfare_shelter,
    "aed_on_fire_engine": aed_on_fire_engine,
    "aed_limited_hours": aed_limited_hours,
    "plateau_river_flood": plateau_river_flood,
    "plateau_tsunami_storm_surge": plateau_tsunami_storm_surge,
    "tsunami_depth_class": tsunami_depth_class,
    "storm_surge_depth_class": storm_surge_depth_class,
}
