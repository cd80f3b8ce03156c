"""File readers: bytes in, catalog features and a report out. Pure: no database, no web."""

from importers.base import Feature, ImportRejected, ImportReport, Issue, RawRecord
from importers.geojson import read_geojson
from importers.pipeline import to_features

__all__ = [
    "Feature",
    "ImportRejected",
    "ImportReport",
    "Issue",
    "RawRecord",
    "read_geojson",
    "to_features",
]
