"""Read GeoJSON (Feature or FeatureCollection, with or without a legacy ``crs`` member)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pyogrio.raw
import shapely

from importers.base import ImportRejected, Issue, RawRecord
from importers.crs import srid_of


def read_geojson(data: bytes) -> Iterator[RawRecord]:
    """Yield one record per feature, in file order, with the file's CRS.

    GDAL's GeoJSON driver honours the legacy ``crs`` member (KSJ and QGIS exports carry
    ``urn:ogc:def:crs:EPSG::6668``) and reads the file in one pass.

    Raises
    ------
    ImportRejected
        If the bytes are not GeoJSON GDAL can read.
    """
    if data.lstrip()[:1] not in (b"{", b"["):
        raise ImportRejected(
            Issue(
                "not_geojson",
                "GeoJSONファイルではありません（先頭が { ではありません）",
                "This is not a GeoJSON file (it does not start with {)",
            )
        )
    try:
        meta, _, wkb, fields = pyogrio.raw.read(io.BytesIO(data))
    except Exception as exc:  # pyogrio raises its own hierarchy and GDAL's; all mean unreadable
        raise ImportRejected(
            Issue(
                "unreadable_geojson",
                f"GeoJSONとして読めません：{exc}",
                f"Cannot read this as GeoJSON: {exc}",
            )
        ) from exc
    srid = srid_of(meta["crs"])
    geometries = shapely.from_wkb(wkb) if wkb is not None else [None] * len(fields[0])
    names = list(meta["fields"])
    columns = [list(values) for values in fields]
    for index, geometry in enumerate(geometries):
        properties = {name: column[index] for name, column in zip(names, columns, strict=True)}
        yield RawRecord(row=index + 1, geometry=geometry, properties=properties, srid=srid)
