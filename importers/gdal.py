"""The one door to GDAL: configure it safely before pyogrio loads, then read a local file."""

from __future__ import annotations

import os

# A .vrt can make GDAL read arbitrary local files (a real CVE class for upload services): the VRT
# driver is switched off before GDAL registers its drivers, whatever file reaches it.
os.environ["GDAL_SKIP"] = "OGR_VRT"
os.environ.setdefault("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".none")  # no network reads
os.environ["GDAL_HTTP_TIMEOUT"] = "1"

from typing import Any

import pyogrio
import pyogrio.raw
import shapely

from importers.crs import srid_of, unknown_crs


def read_layer(
    path: str,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    max_rows: int | None = None,
) -> tuple[int, list[Any]]:
    """Read one layer of a local file: (srid, [(geometry, properties), …]) in file order.

    Only ever called on files this package wrote itself, after their content was checked to be
    of the expected format. With ``max_rows`` GDAL stops one row past it, so the caller's row
    limit is met without reading (and holding) the rest of a huge layer.

    Examples
    --------
    >>> import tempfile, numpy, pyogrio.raw, shapely
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/aed.gpkg"
    >>> pyogrio.raw.write(path, geometry=shapely.to_wkb([shapely.Point(135.37, 34.46)]),
    ...                   field_data=[numpy.array(["市役所"], dtype=object)], fields=["name"],
    ...                   crs="EPSG:6668", driver="GPKG", geometry_type="Point", layer="aed")
    >>> srid, rows = read_layer(path)
    >>> srid, rows[0][0].wkt, rows[0][1], list_layers(path)
    (6668, 'POINT (135.37 34.46)', {'name': '市役所'}, [('aed', 'Point')])
    >>> folder.cleanup()
    """
    meta, _, wkb, fields = pyogrio.raw.read(
        path,
        layer=layer,
        encoding=encoding,
        max_features=None if max_rows is None else max_rows + 1,
    )
    try:
        srid = srid_of(meta["crs"])
    except ValueError:
        raise unknown_crs(str(meta["crs"])) from None
    names = list(meta["fields"])
    count = len(wkb) if wkb is not None else (len(fields[0]) if len(fields) else 0)
    geometries = shapely.from_wkb(wkb) if wkb is not None else [None] * count
    # Numbers as Python numbers: numpy scalars are not JSON (a GeoJSON float property of a
    # feature with an ID failed in the duplicate check's digest).
    columns = [
        values.tolist() if values.dtype.kind in "biuf" else list(values) for values in fields
    ]
    rows = [
        (geometry, {name: column[i] for name, column in zip(names, columns, strict=True)})
        for i, geometry in enumerate(geometries)
    ]
    return srid, rows


def list_layers(path: str) -> list[tuple[str, str | None]]:
    """(name, geometry type) of each layer in a local file (example: ``read_layer``)."""
    return [
        (str(name), None if kind is None else str(kind)) for name, kind in pyogrio.list_layers(path)
    ]
