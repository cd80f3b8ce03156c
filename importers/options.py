"""What a caller may tell an importer about a file, and the limits every import obeys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from importers.towns import TownIndex

# The column mapping's two choices besides an attribute: the header is no attribute (its
# cells are kept under the header, as any unmatched column's are), or the column is left out.
KEEP_COLUMN = ""
IGNORE_COLUMN = "-"


@dataclass(frozen=True)
class Neighbour:
    """A municipality around the upload's own, by name, with its boundary (EPSG:4326)."""

    name_ja: str
    name_en: str
    boundary: BaseGeometry


@dataclass(frozen=True)
class Limits:
    """Size bounds: a file past any of them is rejected, never half-read."""

    max_rows: int = 500_000
    max_vertices: int = 200_000  # per feature
    max_archive_members: int = 200
    max_unpacked_bytes: int = 1 << 30  # total of a zip's members
    max_member_ratio: int = 200  # compressed -> uncompressed, per member (zip bombs)
    max_columns: int = 1000  # per table row: no real layer comes near
    max_cells: int = 10_000_000  # per spreadsheet (about 500,000 rows of 20 columns)
    # Wall-clock bound on reading and checking one file (None: unbounded); checked between
    # batches, so each reader's own bounds above keep any one step short.
    max_seconds: float | None = None


@dataclass(frozen=True)
class ImportOptions:
    """Explicit choices that override detection.

    Parameters
    ----------
    format
        ``csv``, ``xlsx``, ``geojson``, ``shapefile``, ``kml``, ``gpkg`` or ``gtfs``; None detects it.
    encoding
        Text encoding of CSV/TSV/DBF/GTFS files; None detects (BOM, then UTF-8, then CP932).
    srid
        EPSG code of the coordinates when the file does not say (plane-rectangular X/Y, Tokyo Datum).
    sheet, layer
        The Excel sheet or GeoPackage layer to read; None takes the first.
    columns
        Header -> attribute name (or coordinate role: ``latitude``, ``survey_x``…), for headers
        the catalog's aliases do not cover; a header chosen here is never matched otherwise.
        ``KEEP_COLUMN`` keeps the column under its own name, ``IGNORE_COLUMN`` leaves it out.
    boundary
        The owning municipality's boundary (EPSG:4326) with the tolerance already added: points
        outside it are row errors, and it decides the axis order of plane-rectangular X/Y.
    exact_boundary, neighbours
        The same boundary without the tolerance, and the municipalities around it: a feature
        outside the exact boundary but within the tolerance (a facility the municipality runs
        in the next town) is kept, with a warning naming the municipality where it lies.
    plane_srid
        The plane-rectangular zone (EPSG code) assumed for X/Y columns when ``srid`` is not given.
    gtfs_table
        For GTFS feeds: ``stops`` (points) or ``routes`` (lines).
    where
        Column (as headed in the file) -> the values to keep: only rows whose cell is one of
        them are read. One file with a category column can so feed several layers
        (``{"小分類": ["病院・診療所"]}``); the report counts the rows left out.
    town_positions, towns
        Place rows that have an address but no coordinates at the centre of their 大字・町丁目
        (with a warning: approximate); ``towns`` is the municipality's town table, which the
        caller supplies when ``town_positions`` is asked for.
    """

    format: str | None = None
    encoding: str | None = None
    srid: int | None = None
    sheet: str | None = None
    layer: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    boundary: BaseGeometry | None = None
    exact_boundary: BaseGeometry | None = None
    neighbours: tuple[Neighbour, ...] = ()
    plane_srid: int | None = None
    gtfs_table: str = "stops"
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    town_positions: bool = False
    towns: TownIndex | None = None
    limits: Limits = field(default_factory=Limits)

    def choices(self) -> dict[str, bool | str | int | dict[str, str] | dict[str, list[str]]]:
        """The caller's explicit choices: what reads the same bytes again the same way.

        Examples
        --------
        >>> ImportOptions(encoding="cp932", srid=6674).choices()
        {'encoding': 'cp932', 'srid': 6674}
        >>> ImportOptions().choices()
        {}
        """
        chosen = {
            "format": self.format,
            "encoding": self.encoding,
            "srid": self.srid,
            "sheet": self.sheet,
            "layer": self.layer,
            "columns": dict(self.columns),
            "where": {k: list(v) for k, v in self.where.items()},
            "town_positions": self.town_positions or None,
        }
        return {k: v for k, v in chosen.items() if v not in (None, {})}
