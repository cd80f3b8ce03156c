"""The column-mapping screen's facts: a file's headers and first rows, and what each could be.

Read with the upload's own reading choices and bounds (``uploads.reading_limits``) by the
importers' readers, so the headers shown are the ones the upload will meet. The chosen mapping
goes back as the upload's ``columns`` option: header -> attribute, coordinate role,
``KEEP_COLUMN`` or ``IGNORE_COLUMN``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from importers import ImportRejected
from importers.peek import FilePeek, peek, suggested_columns
from layers import GeometryType, LayerDefinition
from mapsvc.errors import UploadRejected
from mapsvc.services.uploads import UploadRequest, reading_limits
from mapsvc.services.versions import SourceFile
from mapsvc.services.views import Words
from mapsvc.settings import Settings

# What a table's columns may hold besides attributes, in the order the screen offers them.
POINT_ROLES = ("latitude", "longitude", "survey_x", "survey_y", "gis_x", "gis_y", "wkt")
SHAPE_ROLES = ("wkt",)


@dataclass(frozen=True)
class ColumnChoice:
    """One attribute a header may be mapped to."""

    name: str
    label: Words


@dataclass(frozen=True)
class HeaderView:
    """One header of the file, what an import would make of it, and its first cells."""

    header: str
    suggested: str  # an attribute, a coordinate role, or KEEP_COLUMN
    samples: tuple[str, ...]


@dataclass(frozen=True)
class MappingView:
    """Everything the column-mapping screen shows for one file."""

    format: str
    encoding: str | None
    sheets: tuple[str, ...]
    sheet: str | None  # the sheet shown (the first when none was chosen)
    headers: tuple[HeaderView, ...]
    rows: tuple[tuple[str, ...], ...]
    attributes: tuple[ColumnChoice, ...]
    roles: tuple[str, ...]  # coordinate roles a column may take (none for non-tables)
    warnings: tuple[Words, ...]


def mapping_view(
    settings: Settings, *, layer: LayerDefinition, source: SourceFile, request: UploadRequest
) -> MappingView:
    """The file's headers and first rows for ``layer``, read as the upload would read them.

    Raises
    ------
    UploadRejected
        When the file cannot be read at all, with the reason the upload would give.
    """
    options = dataclasses.replace(request.reading, limits=reading_limits(settings))
    try:
        found: FilePeek = peek(source.content, source.filename, options)
    except ImportRejected as exc:
        raise UploadRejected(
            {"errors": [exc.issue.as_dict()], "rejected_file": True, "format": options.format}
        ) from exc
    suggested = suggested_columns(found.headers, layer, table=found.table)
    roles = () if not found.table else POINT_ROLES if _points(layer) else SHAPE_ROLES
    return MappingView(
        format=found.format,
        encoding=found.encoding,
        sheets=found.sheets,
        sheet=options.sheet or (found.sheets[0] if found.sheets else None),
        headers=tuple(
            HeaderView(h, suggested[h], tuple(row[i] for row in found.rows))
            for i, h in enumerate(found.headers)
        ),
        rows=found.rows,
        attributes=tuple(
            ColumnChoice(a.name, Words(a.label.ja, a.label.en)) for a in layer.attributes
        ),
        roles=roles,
        warnings=tuple(Words(w.message_ja, w.message_en) for w in found.warnings),
    )


def _points(layer: LayerDefinition) -> bool:
    return layer.geometry_type is GeometryType.POINT
