"""SQL for vector tiles (Mapbox Vector Tile via PostGIS) and the tile-ready geometry behind them."""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

# Zoom bands of the pre-generalised geometry: (band, first zoom, simplification tolerance in
# metres). A tolerance of about a pixel at the band's first zoom keeps the shape and drops the rest.
BANDS = ((0, 0, 600.0), (1, 8, 40.0), (2, 11, 4.0), (3, 14, 0.0))
MAX_VERTICES = 256  # per subdivided piece: small pieces make tile clipping cheap


def band_of(zoom: int) -> int:
    """The band serving a zoom level."""
    return max(band for band, first, _ in BANDS if zoom >= first)


def build_tile_geometry(session: Session, version_id: int) -> None:
    """Make the version's tile-ready geometry once (at publish time; rollback reuses it).

    Points need none: their tiles read the features directly.
    """
    kind = session.execute(
        text(
            "SELECT l.geometry_type FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "JOIN layer l ON l.id = d.layer_id WHERE v.id = :v"
        ),
        {"v": version_id},
    ).scalar_one()
    exists = session.execute(
        text("SELECT 1 FROM tile_geom WHERE version_id = :v LIMIT 1"), {"v": version_id}
    )
    if kind == "point" or exists.first():
        return
    # A staff action on possibly huge polygons, not a public read: no 15 s cap here.
    session.execute(text("SET LOCAL statement_timeout = '10min'"))
    for band, _, tolerance in BANDS:
        session.execute(
            text(
                "INSERT INTO tile_geom (version_id, feature_id, band, geom) "
                "SELECT :v, f.id, :band, ST_Subdivide(g, :pieces) FROM ("
                "  SELECT id, CASE WHEN :tol > 0 THEN ST_MakeValid(ST_SimplifyPreserveTopology("
                "    ST_Transform(geom, 3857), :tol)) ELSE ST_Transform(geom, 3857) END AS g"
                "  FROM feature WHERE version_id = :v) f "
                "WHERE NOT ST_IsEmpty(g)"
            ),
            {"v": version_id, "band": band, "tol": tolerance, "pieces": MAX_VERTICES},
        )
        session.execute(
            text(
                "DELETE FROM tile_geom WHERE version_id = :v AND band = :band "
                "AND ST_Dimension(geom) < (SELECT max(ST_Dimension(geom)) FROM tile_geom "
                "WHERE version_id = :v AND band = :band)"
            ),
            {"v": version_id, "band": band},
        )


# Fixed statements, every value bound. ``municipality_code || '-' || feature_key`` is the public
# id as ``features.public_id`` writes it (tests/api/test_tiles.py finds an item's id in a tile).
_POINTS = """
SELECT ST_AsMVT(t, :name, 4096, 'geom', 'mvt_id') FROM (
  SELECT CASE WHEN :ids THEN f.id END AS mvt_id,
         CASE WHEN :ids THEN f.municipality_code || '-' || f.feature_key END AS id,
         f.properties ->> :label AS name, f.properties ->> :klass AS class, m.geom
  FROM published_feature f,
       LATERAL (SELECT ST_AsMVTGeom(ST_Transform(f.geom, 3857), ST_TileEnvelope(:z, :x, :y),
                                    4096, 64, true) AS geom) m
  WHERE f.layer_id = :layer AND m.geom IS NOT NULL
    AND f.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326)
  ORDER BY f.id
  LIMIT :cap
) t
"""

# For drawing only: one point per grid cell (tile units) and class, where points closer than a
# pixel cover each other anyway (ties to the lowest id: stable tiles), and each class's points
# as one multipoint in row order, whose small coordinate steps take a byte or two: a third of
# the bytes of a feature per point (the viewer hands each point to VectorGrid on its own).
# DISPLAY_EXTENT units: half a pixel of a 256-pixel tile is precise enough for a dot, and the
# smaller steps compress better (central Osaka's z10 sites: 6.7 KB against 10.9 at 4096).
DISPLAY_EXTENT = 512
_DISPLAY_POINTS = """
SELECT ST_AsMVT(t, :name, :extent, 'geom') FROM (
  SELECT class, ST_Collect(geom ORDER BY ST_Y(geom), ST_X(geom)) AS geom FROM (
    SELECT DISTINCT ON (cell, class) class, geom FROM (
      SELECT f.properties ->> :klass AS class, m.geom, f.id AS rank,
             ST_AsBinary(ST_SnapToGrid(m.geom, :grid)) AS cell
      FROM published_feature f,
           LATERAL (SELECT ST_AsMVTGeom(ST_Transform(f.geom, 3857), ST_TileEnvelope(:z, :x, :y),
                                        :extent, 8, true) AS geom) m
      WHERE f.layer_id = :layer AND m.geom IS NOT NULL
        AND f.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326)
    ) p ORDER BY cell, class, rank
    LIMIT :cap
  ) kept GROUP BY class ORDER BY class
) t
"""

_SHAPES = """
SELECT ST_AsMVT(t, :name, 4096, 'geom') FROM (
  SELECT CASE WHEN :ids THEN d.municipality_code || '-' || f.feature_key END AS id,
         f.properties ->> :label AS name, f.properties ->> :klass AS class,
         ST_AsMVTGeom(g.geom, ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
  FROM dataset d
  JOIN tile_geom g ON g.version_id = d.current_version_id AND g.band = :band
  JOIN feature f ON f.id = g.feature_id
  WHERE d.layer_id = :layer AND g.geom && ST_TileEnvelope(:z, :x, :y, margin => 0.02)
  LIMIT :cap
) t WHERE t.geom IS NOT NULL
"""


def tile(
    session: Session,
    *,
    layer_id: str,
    points: bool,
    label: str,
    klass: str,
    z: int,
    x: int,
    y: int,
    cap: int,
    ids: bool = True,
    grid: int = 0,
) -> bytes:
    """One layer's MVT tile (empty bytes when nothing is there).

    ``label`` and ``klass`` name the properties copied as ``name`` and ``class`` ("" for none);
    ``ids`` adds each feature's public id. Empty values are left out of the tile. ``grid``
    (points only, in units of ``DISPLAY_EXTENT``) makes a tile for drawing: one point per cell
    and class, each class one multipoint, without ids or names.
    """
    sql = (_DISPLAY_POINTS if grid else _POINTS) if points else _SHAPES
    statement = text(sql).bindparams(bindparam("cap"))
    params = {
        "name": layer_id,
        "layer": layer_id,
        "label": label,
        "klass": klass,
        "z": z,
        "x": x,
        "y": y,
        "cap": cap,
        "ids": ids,
        "band": band_of(z),
        "grid": grid,
        "extent": DISPLAY_EXTENT,
    }
    data = session.execute(statement, params).scalar_one()
    return bytes(data or b"")
