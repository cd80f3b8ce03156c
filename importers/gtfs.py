"""GTFS and GTFS-JP feeds: stops as points, routes as lines (from shapes, else stop sequences).

Each file of a feed is decoded on its own (real feeds mix UTF-8 and CP932), and both the GTFS
translations table and GTFS-JP's legacy ``trans_id,lang,translation`` form give English names.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from pathlib import PurePosixPath

import shapely

from importers.archive import SafeZip
from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.options import ImportOptions
from importers.text import decode, lines

Row = dict[str, str]


class Feed:
    """The text files of a GTFS zip, each decoded and parsed on demand."""

    def __init__(self, data: bytes, options: ImportOptions, report: ImportReport) -> None:
        self._archive = SafeZip(data, options.limits)
        self._files = {PurePosixPath(n).name.lower(): n for n in self._archive.find(".txt")}
        self._encoding = options.encoding
        self._report = report
        if "stops.txt" not in self._files:
            raise ImportRejected(
                Issue(
                    "not_gtfs",
                    "GTFSのZIPではありません（stops.txt がありません）",
                    "This is not a GTFS zip (no stops.txt)",
                )
            )

    def has(self, name: str) -> bool:
        """Whether the feed has this file."""
        return name in self._files

    def table(self, name: str) -> Iterator[Row]:
        """Rows of ``name`` (none when absent), headers trimmed, trailing empty columns dropped.

        One row at a time: a feed's stop_times.txt can have millions of rows, and a dict per row
        held at once cost +700 MB for a 5 MB zip.
        """
        if name not in self._files:
            return
        text, codec = decode(self._archive.read(self._files[name]), self._encoding, name=name)
        if codec == "cp932":
            self._report.warnings.append(
                Issue(
                    "encoding_cp932",
                    f"{name} を Shift_JIS（CP932）として読みました",
                    f"Read {name} as Shift_JIS (CP932)",
                )
            )
        reader = csv.reader(lines(text))
        header = [h.strip() for h in next(reader, [])]
        for values in reader:
            if any(v.strip() for v in values):
                yield {h: v.strip() for h, v in zip(header, values, strict=False) if h}


def _translations(feed: Feed) -> dict[str, dict[str, str]]:
    """Japanese text (or record id) -> {language: translation}, from either translations form."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for row in feed.table("translations.txt"):
        if "trans_id" in row:  # GTFS-JP v1: keyed by the Japanese text itself
            found[row["trans_id"]][row.get("lang", "")] = row.get("translation", "")
        else:
            key = row.get("field_value") or row.get("record_id", "")
            found[key][row.get("language", "")] = row.get("translation", "")
    return found


def _agency_names(feed: Feed) -> dict[str, str]:
    agencies = list(feed.table("agency.txt"))
    names = {a.get("agency_id", ""): a.get("agency_name", "") for a in agencies}
    names[""] = agencies[0].get("agency_name", "") if agencies else ""
    return names


def _route_name(route: Row) -> str:
    return (
        route.get("route_long_name") or route.get("route_short_name") or route.get("route_id", "")
    )


def read_gtfs(data: bytes, options: ImportOptions, report: ImportReport) -> Iterator[RawRecord]:
    r"""Stops (``options.gtfs_table == "stops"``) or routes (``"routes"``) of a feed.

    Stops are the poles (``location_type`` 0) with the routes that serve them and their kana and
    English names from either translation form; routes are MultiLineStrings from ``shapes.txt``,
    else from their stops in sequence. Each file's encoding is detected on its own.

    Parameters
    ----------
    data
        The file's bytes.
    options
        The caller's choices (the table: stops or routes) and the limits.
    report
        Collects file-level warnings as the rows stream.

    Examples
    --------
    >>> import io, zipfile
    >>> from importers import ImportOptions, ImportReport
    >>> feed = io.BytesIO()
    >>> with zipfile.ZipFile(feed, "w") as zipped:
    ...     zipped.writestr("agency.txt", "agency_id,agency_name,agency_url,agency_timezone\n"
    ...                     "A,岸和田市,https://example.jp,Asia/Tokyo\n")
    ...     zipped.writestr("stops.txt", "stop_id,stop_name,stop_lat,stop_lon\nS1,市役所前,34.46,135.37\n")
    >>> [(r.row, r.geometry.wkt, r.properties["stop_name"], r.properties["agency_name"])
    ...  for r in read_gtfs(feed.getvalue(), ImportOptions(), ImportReport())]
    [(2, 'POINT (135.37 34.46)', '市役所前', '岸和田市')]
    """
    feed = Feed(data, options, report)
    if options.gtfs_table == "routes":
        yield from _routes(feed)
    else:
        yield from _stops(feed)


def _stops(feed: Feed) -> Iterator[RawRecord]:
    translations = _translations(feed)
    agencies = _agency_names(feed)
    routes = {r["route_id"]: r for r in feed.table("routes.txt") if "route_id" in r}
    trip_route = {t["trip_id"]: t.get("route_id", "") for t in feed.table("trips.txt")}
    serving: dict[str, set[str]] = defaultdict(set)
    for stop_time in feed.table("stop_times.txt"):
        route = routes.get(trip_route.get(stop_time.get("trip_id", ""), ""))
        if route is not None:
            serving[stop_time.get("stop_id", "")].add(_route_name(route))
    operator = ", ".join(sorted({v for k, v in agencies.items() if k and v})) or agencies[""]
    for row_number, stop in enumerate(feed.table("stops.txt"), start=2):
        if stop.get("location_type", "0") not in ("", "0"):
            continue  # stations group the poles; residents wait at the poles (location_type 0)
        name = stop.get("stop_name", "")
        try:
            geometry = shapely.Point(float(stop["stop_lon"]), float(stop["stop_lat"]))
            error = None
        except (KeyError, ValueError):
            geometry, error = (
                None,
                Issue(
                    "unreadable_coordinates",
                    "stop_lat・stop_lon が数値ではありません",
                    "stop_lat/stop_lon are not numbers",
                    row=row_number,
                    column="stop_lat/stop_lon",
                ),
            )
        properties = {
            "stop_id": stop.get("stop_id"),
            "stop_name": name,
            "stop_name_en": translations.get(name, {}).get("en")
            or translations.get(stop.get("stop_id", ""), {}).get("en"),
            "stop_name_kana": translations.get(name, {}).get("ja-Hrkt"),
            "platform_code": stop.get("platform_code") or None,
            "agency_name": operator,
            "routes": "、".join(sorted(serving.get(stop.get("stop_id", ""), ()))) or None,
        }
        yield RawRecord(row_number, geometry, properties, 4326, error)


def _routes(feed: Feed) -> Iterator[RawRecord]:
    translations = _translations(feed)
    agencies = _agency_names(feed)
    trips_by_route: dict[str, list[Row]] = defaultdict(list)
    for trip in feed.table("trips.txt"):
        trips_by_route[trip.get("route_id", "")].append(trip)
    shapes: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for point in feed.table("shapes.txt"):
        shapes[point["shape_id"]].append(
            (
                float(point["shape_pt_sequence"]),
                float(point["shape_pt_lon"]),
                float(point["shape_pt_lat"]),
            )
        )
    stops = {
        s["stop_id"]: (float(s["stop_lon"]), float(s["stop_lat"]))
        for s in feed.table("stops.txt")
        if s.get("stop_lon") and s.get("stop_lat")
    }
    sequences: dict[str, list[tuple[int, str]]] = defaultdict(list)
    if not shapes:  # the stop sequence of each trip stands in for its path
        for stop_time in feed.table("stop_times.txt"):
            sequences[stop_time["trip_id"]].append(
                (int(stop_time["stop_sequence"]), stop_time["stop_id"])
            )
    for row_number, route in enumerate(feed.table("routes.txt"), start=2):
        lines: set[tuple[tuple[float, float], ...]] = set()
        for trip in trips_by_route.get(route.get("route_id", ""), []):
            shape_id = trip.get("shape_id", "")
            if shape_id and shape_id in shapes:
                lines.add(tuple((x, y) for _, x, y in sorted(shapes[shape_id])))
            elif trip.get("trip_id") in sequences:
                path = [stops[s] for _, s in sorted(sequences[trip["trip_id"]]) if s in stops]
                lines.add(tuple(path))
        parts = [shapely.LineString(line) for line in sorted(lines) if len(set(line)) >= 2]
        name = _route_name(route)
        color = route.get("route_color", "")
        properties = {
            "route_id": route.get("route_id"),
            "route_name": name,
            "route_name_en": translations.get(name, {}).get("en"),
            "route_short_name": route.get("route_short_name") or None,
            "agency_name": agencies.get(route.get("agency_id", ""), agencies[""]),
            "route_color": f"#{color}" if len(color) == 6 else None,
            "jp_parent_route_id": route.get("jp_parent_route_id") or None,
        }
        geometry = shapely.MultiLineString(parts) if parts else None
        yield RawRecord(row_number, geometry, properties, 4326)
