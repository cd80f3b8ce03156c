"""Rows of a table (CSV, TSV, Excel) to records: find the coordinate columns and build points.

Latitude/longitude columns are decimal degrees. X/Y columns are plane-rectangular metres: the
CRS is the declared one or the municipality's zone, and whether X is the northing (survey
convention) or the easting (GIS exports) is decided from where the points fall.
"""

from __future__ import annotations

import itertools
import math
import operator
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from importers.base import ImportRejected, ImportReport, Issue, RawRecord
from importers.columns import header_key
from importers.crs import in_japan, to_wgs84
from importers.links import position_in_link
from importers.options import ImportOptions
from importers.towns import TownIndex
from layers import load_geometry_columns

_SAMPLE = 200


@dataclass(frozen=True)
class Table:
    """A header and its rows; each row carries the number a person sees (Excel's row number)."""

    headers: list[str]
    rows: Iterable[tuple[int, Sequence[object]]]


def coordinate_roles(headers: Sequence[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Column index per geometry role (``latitude``, ``survey_x``…).

    The caller's ``columns`` win: a header named there takes the role it names, or none.

    >>> coordinate_roles(["名称", "緯度", "経度", "lat2"], {"経度": "-", "lat2": "longitude"})
    {'longitude': 3, 'latitude': 1}
    """
    aliases = load_geometry_columns()
    keys = {role: {header_key(a) for a in names} for role, names in aliases.items()}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        override = columns.get(header)
        if override in keys:
            found[override] = index
    for index, header in enumerate(headers):
        if header in columns:
            continue
        folded = header_key(header)
        for role, names in keys.items():
            if role not in found and folded in names and index not in found.values():
                found[role] = index
    return found


HEADER_LOOKAHEAD = 10  # rows searched for the header below any title rows


def _filled(values: Sequence[object]) -> int:
    return sum(v not in (None, "") and str(v).strip() != "" for v in values)


def _blank(values: Sequence[object]) -> bool:
    # Stops at the first filled cell, usually the first: counting them all cost 0.3 s per
    # 100,000 rows.
    for value in values:
        if value is not None and (value.strip() if isinstance(value, str) else str(value).strip()):
            return False
    return True


def split_header(
    rows: Iterable[tuple[int, Sequence[object]]], report: ImportReport, *, empty: Issue
) -> Table:
    """The header and the data rows of a sheet or CSV, title rows above the header skipped.

    The header is the first non-empty row with at least three filled cells (or as many as the
    widest of the first rows has, for narrow tables): a title such as
    ``大阪市施設AED設置場所一覧表,,,…,令和８年４月現在`` fills one or two. Row numbers stay the
    ones a spreadsheet shows.

    >>> rows = [(1, ["一覧表", "", "", "令和8年4月"]), (2, ["名称", "緯度", "経度", ""]),
    ...         (3, ["市役所", "34.46", "135.37", ""])]
    >>> table = split_header(rows, ImportReport(), empty=Issue("empty_file", "", ""))
    >>> table.headers, list(table.rows)
    (['名称', '緯度', '経度'], [(3, ['市役所', '34.46', '135.37'])])
    """
    nonblank = ((n, v) for n, v in rows if not _blank(v))
    ahead = list(itertools.islice(nonblank, HEADER_LOOKAHEAD))
    if not ahead:
        raise ImportRejected(empty)
    needed = min(3, max(_filled(v) for _, v in ahead))
    at = next(i for i, (_, v) in enumerate(ahead) if _filled(v) >= needed)
    number, header = ahead[at]
    headers = ["" if h is None else str(h).strip() for h in header]
    while headers and headers[-1] == "":  # trailing empty columns, as Excel and some feeds write
        headers.pop()
    headers = _unique(headers)
    if at:
        titles = "、".join(str(n) for n, _ in ahead[:at])
        report.warnings.append(
            Issue(
                "title_rows_skipped",
                f"{titles}行目を表題として読み飛ばし、{number}行目を列名として読みました",
                f"Read row(s) {titles.replace('、', ', ')} as a title and row {number} as the "
                "column names",
            )
        )
    width = len(headers)
    data = (
        (n, v if isinstance(v, list) and len(v) <= width else list(v)[:width])
        for n, v in itertools.chain(ahead[at + 1 :], nonblank)
    )
    return Table(headers, data)


def _unique(headers: list[str]) -> list[str]:
    """A repeated column name gets ``_2``, ``_3``…: both columns are kept (マップナビ has two 分類).

    >>> _unique(["名称", "分類", "経度", "分類"])
    ['名称', '分類', '経度', '分類_2']
    """
    seen: dict[str, int] = {}
    unique = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        unique.append(header if seen[header] == 1 or not header else f"{header}_{seen[header]}")
    return unique


def _link_column(first_row: Sequence[object]) -> int | None:
    """The column whose first value is a map link holding a position, if any."""
    for index, value in enumerate(first_row):
        if position_in_link(value) is not None:
            return index
    return None


def _number(value: object) -> float | None:
    if value.__class__ is float or value.__class__ is int:  # a spreadsheet's number (no bool)
        return float(value)
    if isinstance(value, str):
        try:  # most cells: float() already takes surrounding spaces and full-width digits
            return float(value)
        except ValueError:
            pass
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    if text == "":
        return None
    return float(text.replace(",", ""))


def _row_issue(
    row: int, code: str, *, ja: str, en: str, column: str | None = None, value: object = None
) -> Issue:
    return Issue(code, ja, en, row=row, column=column, value=None if value is None else str(value))


def _degrees(row: int, lon: float, lat: float, *, columns: tuple[str, str]) -> Issue | None:
    if lon == 0 and lat == 0:
        return _row_issue(
            row,
            "zero_coordinates",
            ja="緯度・経度が (0, 0) です。正しい位置を入力してください",
            en="Latitude and longitude are (0, 0): enter the real position",
        )
    if in_japan(lon, lat):  # Japan's ranges do not overlap: surely swapped
        return _row_issue(
            row,
            "swapped_coordinates",
            ja="緯度と経度が入れ替わっています（緯度は20〜46、経度は122〜154）",
            en="Latitude and longitude are swapped (latitude 20-46, longitude 122-154)",
            column=f"{columns[1]}/{columns[0]}",
            value=f"{lat}, {lon}",
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return _row_issue(
            row,
            "not_degrees",
            ja="緯度・経度が度の値ではありません。平面直角座標なら列名を X座標・Y座標 にするか座標系を指定してください",
            en="Latitude/longitude are not degrees: for plane-rectangular metres name the "
            "columns X/Y or give the CRS",
            column=f"{columns[1]}/{columns[0]}",
            value=f"{lat}, {lon}",
        )
    return None


def _northing_first(
    sample: list[tuple[float, float]], srid: int, *, options: ImportOptions, default: bool
) -> bool:
    """Whether X/Y pairs are (northing, easting).

    The column names give the default (survey "X座標" is the northing, GIS "POINT_X" the easting);
    the municipality's boundary overrules them when the other order puts more points inside it.
    """
    if options.boundary is None or not sample:
        return default

    def inside(points: list[tuple[float, float]]) -> int:
        return sum(options.boundary.covers(to_wgs84(shapely.Point(x, y), srid)) for x, y in points)  # type: ignore[union-attr]

    as_survey, as_gis = inside([(b, a) for a, b in sample]), inside(sample)
    return default if as_survey == as_gis else as_survey > as_gis


def check_width(headers: Sequence[str], options: ImportOptions) -> None:
    """Refuse a table wider than the limit (no real layer comes near it)."""
    if len(headers) > options.limits.max_columns:
        raise ImportRejected.because(
            "too_many_columns",
            f"列が多すぎます（{len(headers):,} 列、上限 {options.limits.max_columns:,}）",
            f"Too many columns ({len(headers):,}; at most {options.limits.max_columns:,})",
        )


def records_from_table(
    table: Table, options: ImportOptions, report: ImportReport
) -> Iterator[RawRecord]:
    """Yield one record per row, with a point (or the reason there is none).

    Coordinate columns are found by their headers (緯度/経度, X/Y, POINT_X/POINT_Y…); survey X/Y
    (northing first) and GIS X/Y (easting first) are told apart by the municipality's boundary.

    Examples
    --------
    >>> from importers import ImportOptions, ImportReport
    >>> from importers.tabular import Table
    >>> table = Table(["名称", "緯度", "経度"], [(2, ["市役所", "34.46", "135.37"])])
    >>> [(r.row, r.xy) for r in records_from_table(table, ImportOptions(), ImportReport())]
    [(2, (135.37, 34.46))]
    """
    headers = table.headers
    check_width(headers, options)
    rows = iter(table.rows)
    first = next(rows, None)
    if first is None:
        raise ImportRejected(
            Issue(
                "no_rows",
                "データ行がありません（列名の行だけです）",
                "The file has column names but no data rows",
            )
        )
    rows = itertools.chain([first], rows)
    roles = coordinate_roles(headers, options.columns)
    geometry_columns = set(roles.values()) - {roles.get("address")}
    if "wkt" in roles:
        mode, columns = "wkt", (roles["wkt"], roles["wkt"])
    elif "longitude" in roles and "latitude" in roles:
        mode, columns = "degrees", (roles["longitude"], roles["latitude"])
    elif "gis_x" in roles and "gis_y" in roles:
        mode, columns = "gis", (roles["gis_x"], roles["gis_y"])
    elif "survey_x" in roles and "survey_y" in roles:
        mode, columns = "survey", (roles["survey_x"], roles["survey_y"])
    elif (link := _link_column(first[1])) is not None:
        mode, columns = "link", (link, link)
        report.warnings.append(
            Issue(
                "positions_from_links",
                f"位置を列「{headers[link]}」の地図リンク（URL）の中の座標から読みました",
                f"Positions were read from the map links (URLs) in the column {headers[link]!r}",
                column=headers[link],
            )
        )
    elif options.towns is not None and "address" in roles:
        mode, columns = "town", (roles["address"], roles["address"])
    else:
        raise ImportRejected(
            Issue(
                "no_coordinate_columns",
                "緯度・経度（または X座標・Y座標）の列が見つかりません。列名を「緯度」「経度」にしてください"
                "（住所から位置を求めるジオコーディングはオフラインでは使えません）",
                "No latitude/longitude (or X/Y) columns found: name them 緯度/経度 or latitude/longitude "
                "(geocoding addresses is not available offline)",
                value=", ".join(headers[:30]),
            )
        )
    names = (headers[columns[0]], headers[columns[1]])
    srid = options.srid or 4326
    northing_first = False
    if mode in ("gis", "survey"):
        buffered = list(itertools.islice(rows, _SAMPLE))
        rows = itertools.chain(buffered, rows)
        sample = []
        for _, values in buffered:
            try:
                a, b = _number(values[columns[0]]), _number(values[columns[1]])
            except (ValueError, IndexError):
                continue
            if a is not None and b is not None:
                sample.append((a, b))
        if sample and all(abs(a) <= 180 and abs(b) <= 180 for a, b in sample):
            mode = "degrees"  # X/Y columns that hold longitude/latitude
        else:
            srid = options.srid or options.plane_srid or 0
            if not srid:
                raise ImportRejected(
                    Issue(
                        "plane_coordinates_need_crs",
                        "X・Y座標の座標系（平面直角座標系の系番号）を指定してください",
                        "X/Y coordinates need their CRS (the plane-rectangular zone)",
                    )
                )
            northing_first = _northing_first(
                sample, srid, options=options, default=mode == "survey"
            )
            mode = "plane"
            order = (
                "X座標＝北方向（測量の慣例）" if northing_first else "X座標＝東方向（GISの慣例）"
            )
            order_en = (
                "X = northing (survey convention)"
                if northing_first
                else "X = easting (GIS convention)"
            )
            report.warnings.append(
                Issue(
                    "plane_coordinates_read",
                    f"{names[0]}/{names[1]} を EPSG:{srid} の平面直角座標、{order}として読みました",
                    f"Read {names[0]}/{names[1]} as EPSG:{srid} metres, {order_en}",
                )
            )
    kept = [(i, h) for i, h in enumerate(headers) if i not in geometry_columns]
    kept_headers, pick = [h for _, h in kept], _picker([i for i, _ in kept])
    full_width = max((i for i, _ in kept), default=-1) + 1
    positions = _Positions(
        mode=mode,
        columns=columns,
        names=names,
        srid=srid,
        northing_first=northing_first,
        address=roles.get("address"),
        address_column=headers[roles["address"]] if "address" in roles else None,
        towns=options.towns,
        report=report,
    )
    # One path for every row: what the file decided is bound once, so the common row costs one
    # method call with three arguments (the keyword-heavy call per row was a third of the read).
    record = positions.record
    for row, values in rows:
        width = len(values)
        properties = (
            dict(zip(kept_headers, pick(values), strict=True))
            if width >= full_width
            else {h: (values[i] if i < width else None) for i, h in kept}
        )
        yield record(row, values, properties)


def _picker(indices: list[int]) -> Callable[[Sequence[object]], Sequence[object]]:
    """The cells at ``indices`` of a row, as one C call (itemgetter)."""
    if len(indices) == 1:
        only = indices[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*indices) if indices else lambda _values: ()


def _town_position(
    row: int, address: object, towns: TownIndex, column: str, report: ImportReport
) -> tuple[RawRecord | None, Issue | None]:
    """A point at the centre of the address's town (with its warning), or the row's error."""
    match = towns.match(str(address))
    if match is None:
        hint = "、".join(towns.closest(str(address)))
        return None, _row_issue(
            row,
            "address_not_matched",
            ja="住所から町名（大字・町丁目）が見つかりません。緯度・経度を入れるか、地図で位置を指定してください"
            + (f"（近い町名：{hint}）" if hint else ""),
            en="No town (大字・町丁目) matches this address: enter latitude and longitude, or place "
            "the point on the map" + (f" (towns with similar names: {hint})" if hint else ""),
            column=column,
            value=address,
        )
    report.warnings.append(
        _row_issue(
            row,
            "approximate_position",
            ja=f"位置は「{match.town}」の代表点です（おおよその位置）。正確な位置が分かれば直してください",
            en=f"Placed at the centre of {match.town} (approximate): move the point if you can",
            column=column,
            value=address,
        )
    )
    return RawRecord(row, None, {}, 4326, None, (match.lon, match.lat)), None


@dataclass(frozen=True, kw_only=True)
class _Positions:
    """How a file's rows give their positions: decided once per file, applied to every row."""

    mode: str  # degrees, plane, wkt, link or town
    columns: tuple[int, int]
    names: tuple[str, str]
    srid: int
    northing_first: bool
    address: int | None  # the address column's index
    address_column: str | None  # and its name
    towns: TownIndex | None
    report: ImportReport

    def record(
        self, row: int, values: Sequence[object], properties: dict[str, object]
    ) -> RawRecord:
        """The row's record: its position, or the reason it has none (with row and column)."""
        mode, names, srid = self.mode, self.names, self.srid
        width = len(values)
        first = values[self.columns[0]] if self.columns[0] < width else None
        second = values[self.columns[1]] if self.columns[1] < width else None
        geometry: BaseGeometry | None = None
        error = None
        try:
            if mode in _NUMBERS:
                a, b = _number(first), _number(second)
                if a is not None and b is not None:
                    if not (math.isfinite(a) and math.isfinite(b)):
                        raise ValueError(f"{a}, {b}")
                    x, y = (b, a) if self.northing_first else (a, b)
                    error = _degrees(row, x, y, columns=names) if mode == "degrees" else None
                    if error is None:  # the pipeline builds the points in batches, much faster
                        return RawRecord(row, None, properties, srid, None, (x, y))
            elif mode == "link":
                found = position_in_link(first)
                if found is None and first not in (None, ""):
                    raise ValueError(first)
                if found is not None:
                    error = _degrees(row, *found, columns=names)
                    if error is None:
                        return RawRecord(row, None, properties, srid, None, found)
            elif mode == "wkt":
                text = str(first or "").strip()
                geometry = shapely.from_wkt(text) if text else None
            # town: no coordinates at all, the address below is all there is
        except (ValueError, shapely.errors.GEOSException):
            error = (
                _row_issue(
                    row,
                    "unreadable_link_position",
                    ja="この地図リンク（URL）から位置が読めません。緯度・経度の列を加えてください",
                    en="No position can be read from this map link: add latitude/longitude columns",
                    column=names[0],
                    value=first,
                )
                if mode == "link"
                else _row_issue(
                    row,
                    "unreadable_coordinates",
                    ja="座標が数値として読めません",
                    en="The coordinates are not numbers",
                    column="/".join(names),
                    value=", ".join(map(str, (first, second))),
                )
            )
        if geometry is None and error is None:
            return self._from_address(row, values, properties)
        return RawRecord(row, geometry, properties, srid, error)

    def _from_address(
        self, row: int, values: Sequence[object], properties: dict[str, object]
    ) -> RawRecord:
        mode, names = self.mode, self.names
        index = self.address
        address = values[index] if index is not None and index < len(values) else None
        has_address = address not in (None, "")
        if has_address and self.towns is not None:
            placed, error = _town_position(
                row, address, self.towns, self.address_column or "", self.report
            )
            if placed is not None:
                return RawRecord(row, None, properties, 4326, None, placed.xy)
            return RawRecord(row, None, properties, self.srid, error)
        error = _row_issue(
            row,
            "missing_coordinates",
            ja="緯度・経度がありません"
            + (
                "（住所からの位置特定はオフラインでは行えません。緯度・経度を入力してください）"
                if has_address
                else ""
            ),
            en="No coordinates"
            + (
                " (addresses cannot be geocoded offline: enter latitude and longitude)"
                if has_address
                else ""
            ),
            column=names[0] if mode == "link" else "/".join(names),
            value=str(address) if address else None,
        )
        return RawRecord(row, None, properties, self.srid, error)


_NUMBERS = frozenset({"degrees", "plane"})
