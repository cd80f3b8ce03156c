"""File readers: bytes in, catalog features and a report out. Pure: no database, no web."""

from importers.base import Feature, ImportRejected, ImportReport, Issue, RawRecord
from importers.geojson import read_geojson
from importers.options import ImportOptions, Limits, Neighbour
from importers.pipeline import to_features
from importers.registry import READERS, detect_format, read_records

__all__ = [
    "READERS",
    "Feature",
    "ImportOptions",
    "ImportRejected",
    "ImportReport",
    "Issue",
    "Limits",
    "Neighbour",
    "RawRecord",
    "detect_format",
    "read_geojson",
    "read_records",
    "to_features",
]
