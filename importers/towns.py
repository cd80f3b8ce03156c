r"""A first position for rows that have only an address: the centre of their 大字・町丁目.

Offline and exact-by-name only: the address is folded (full-width digits, kanji chōme numbers,
ヶ/ケ, dashes), the prefecture and the municipality (or the ward) are taken off its front, and
the longest town name it then starts with wins, its chōme number checked (``4丁``, ``4丁目``,
``4-77-1`` and ``四丁目`` all say chōme 4). The point is the town's representative point, which
can be hundreds of metres from the building, so the caller warns that it is approximate.

Examples
--------
>>> index = TownIndex([("堺市堺区", "大浜北町四丁", 34.5785, 135.4637),
...                    ("堺市堺区", "大浜北町", 34.5790, 135.4640),
...                    ("堺市北区", "百舌鳥赤畑町一丁", 34.5601, 135.4930)], city="堺市")
>>> index.match("堺区大浜北町４丁７７－１").town
'大浜北町四丁'
>>> index.match("大阪府堺市堺区大浜北町4-77-1").town
'大浜北町四丁'
>>> index.match("北区百舌鳥赤畑町１丁目2番").town
'百舌鳥赤畑町一丁'
>>> index.match("堺区大浜北町") .town
'大浜北町'
>>> index.match("堺区大浜南町1丁") is None, index.closest("堺区大浜南町1丁")
(True, ['大浜北町', '大浜北町四丁'])

``matches`` says when an address fits more than one town (the same name in two wards, or a
town named without its chōme), for a resident's search that must not pick one silently:

>>> [(m.city, m.town) for m in index.matches("百舌鳥赤畑町")]
[('堺市北区', '百舌鳥赤畑町一丁')]
>>> [m.town for m in index.matches("大浜北町4-77")]
['大浜北町四丁']
"""

from __future__ import annotations

import csv
import difflib
import gzip
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CHOME = re.compile(r"^(.*?)([一二三四五六七八九十〇]+|\d+)丁目?$")
_NUMBER_AFTER = re.compile(r"^(\d+)(?:丁目|丁|-|番|$)")
_KE = str.maketrans(dict.fromkeys("ヶヵがケ", "ケ"))


def kanji_number(text: str) -> int:
    """``十二`` -> 12, ``四`` -> 4, ``12`` -> 12 (chōme numbers as town names write them).

    Examples
    --------
    >>> [kanji_number(t) for t in ("一", "十", "十二", "二十一", "7")]
    [1, 10, 12, 21, 7]
    """
    if text.isdigit():
        return int(text)
    tens, _, units = text.partition("十")
    if not _:
        return KANJI_DIGITS[text]
    return (KANJI_DIGITS[tens] if tens else 1) * 10 + (KANJI_DIGITS[units] if units else 0)


def fold(text: str) -> str:
    """An address or town name in the one form both are compared in."""
    text = unicodedata.normalize("NFKC", text).replace(" ", "").replace("　", "")
    text = re.sub(r"(?<=\d)[‐‑‒–—―−ー－-](?=\d)", "-", text)
    return text.translate(_KE).removeprefix("大阪府")


@dataclass(frozen=True)
class TownMatch:
    """The town an address is in, and its representative point."""

    town: str
    lon: float
    lat: float
    city: str  # as the table writes it: 大阪市住之江区, 島本町


@dataclass(frozen=True)
class _Town:
    city: str
    name: str
    base: str  # the folded name without its chōme
    chome: int | None
    lat: float | None
    lon: float | None


class TownIndex:
    """The towns of one municipality (all its wards) or of the whole prefecture.

    ``rows`` are (city as the table writes it, town, lat, lon); ``city`` is the municipality's
    name (``堺市``, ``島本町``) or None for every town. Towns without a point can be named but not
    placed.
    """

    def __init__(
        self, rows: Iterable[tuple[str, str, float | None, float | None]], *, city: str | None
    ) -> None:
        self._by_prefix: dict[str, list[_Town]] = {}
        self._all: list[_Town] = []
        for place, name, lat, lon in rows:
            short = place.split("郡", 1)[1] if "郡" in place else place
            if city is not None and not (short.startswith(city) or place.startswith(city)):
                continue
            folded = fold(name).removeprefix("大字")
            found = _CHOME.match(folded)
            town = _Town(
                place,
                name,
                found.group(1) if found else folded,
                kanji_number(found.group(2)) if found else None,
                lat,
                lon,
            )
            self._all.append(town)
            # An address may start at the municipality, at the ward, or at the town itself.
            prefixes = {fold(place), fold(short)}
            if city is not None and short.startswith(city) and short != city:
                prefixes.add(fold(short.removeprefix(city)))  # 堺区… for 堺市堺区
            elif city is None and (ward := re.fullmatch(r".+?市(.+区)", short)):
                prefixes.add(fold(ward.group(1)))  # 住之江区… (and 北区… of both cities)
            for prefix in prefixes:
                self._by_prefix.setdefault(prefix, []).append(town)

    @classmethod
    def from_csv(cls, path: Path, *, city: str | None) -> TownIndex:
        """The bundled table (``city, town, lat, lng`` columns; gzip if the name ends .gz)."""
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as stream:
            rows = [
                (
                    r["city"],
                    r["town"],
                    float(r["lat"]) if r["lat"] else None,
                    float(r["lng"]) if r["lng"] else None,
                )
                for r in csv.DictReader(stream)
            ]
        return cls(rows, city=city)

    def __len__(self) -> int:
        return len(self._all)

    def _candidates(self, address: str) -> tuple[str, list[_Town]]:
        for prefix in sorted(self._by_prefix, key=len, reverse=True):
            if address.startswith(prefix):
                return address[len(prefix) :], self._by_prefix[prefix]
        return address, self._all

    def _found(self, address: str) -> tuple[str, list[_Town]]:
        """What is left after the municipality, and every town the address starts with."""
        rest, towns = self._candidates(fold(address))
        rest = rest.removeprefix("大字")
        rest = re.sub(
            r"([一二三四五六七八九十]+)(?=丁)", lambda m: str(kanji_number(m.group(1))), rest
        )
        found = [
            town
            for town in towns
            if rest.startswith(town.base)
            and (
                town.chome is None
                or (
                    (n := _NUMBER_AFTER.match(rest[len(town.base) :]))
                    and int(n.group(1)) == town.chome
                )
            )
        ]
        return rest, found

    def match(self, address: str) -> TownMatch | None:
        """The town ``address`` is in, if it names one that has a point."""
        _, found = self._found(address)
        # The longest name wins; at equal length the town with the chōme (大浜北町四丁 over 大浜北町).
        best = max(found, key=_rank, default=None)
        return _placed(best) if best is not None else None

    def matches(self, address: str) -> list[TownMatch]:
        """Every placed town ``address`` may mean, equally good: one, several, or none.

        Several where the name is in more than one municipality or ward (本町1丁目), or where the
        address names a town without its chōme (北加賀屋: each of its chōme).
        """
        rest, found = self._found(address)
        if found:
            best = max(map(_rank, found))
            found = [t for t in found if _rank(t) == best]
        else:
            found = [t for t in self._candidates(fold(address))[1] if t.base == rest]
        return [m for m in map(_placed, found) if m is not None]

    def closest(self, address: str, n: int = 3) -> list[str]:
        """Town names like the address's, for the hint of an address that matched none."""
        rest, towns = self._candidates(fold(address))
        names = sorted({t.base for t in towns})
        guess = re.split(r"\d", rest, maxsplit=1)[0][:12]
        bases = difflib.get_close_matches(guess, names, n=n, cutoff=0.5)
        return sorted({t.name for t in towns if t.base in bases})[:n]


def _rank(town: _Town) -> tuple[int, bool]:
    return len(town.base), town.chome is not None


def _placed(town: _Town) -> TownMatch | None:
    if town.lat is None or town.lon is None:
        return None
    return TownMatch(town.name, town.lon, town.lat, town.city)
