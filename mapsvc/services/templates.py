"""A layer's blank template for Excel (CSV or .xlsx): standard headers and one example row.

The example row carries the municipality's code and a point inside it, so the template, filled
in and uploaded there as it is, imports with no column mapping (``layers.templates``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import openpyxl

from layers import LayerDefinition
from layers.templates import has_template, template_table
from mapsvc.errors import NotFound
from mapsvc.services.downloads import excel_csv, safe_cell
from mapsvc.services.municipalities import inner_point, resolve_scope
from mapsvc.services.seed import SeedManifest
from mapsvc.services.session import Session
from mapsvc.settings import Settings

TemplateFormat = Literal["csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class TemplateFile:
    """The template's bytes, what they are and the name to save them under."""

    content: bytes
    media_type: str
    filename: str


def layer_template(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    fmt: TemplateFormat,
    municipality: str | None = None,
) -> TemplateFile:
    """The layer's template, its example row in ``municipality`` (None: the prefecture).

    Raises
    ------
    NotFound
        For a layer of areas or lines (nothing a person types row by row), or an unknown
        municipality.
    """
    if not has_template(layer):
        raise NotFound(
            "このレイヤには記入用の表がありません（面や線のデータはファイルでアップロードしてください）",
            f"The layer {layer.id} has no template: its areas or lines come as GIS files",
        )
    scope = resolve_scope(
        session, municipality or SeedManifest.read(settings.seed_manifest).prefecture
    )
    code = scope.ward or scope.owner or ""
    headers, example = template_table(
        layer, municipality_code=code, position=inner_point(session, code)
    )
    name = f"template-{layer.id}.{fmt}"
    if fmt == "csv":
        return TemplateFile(excel_csv(headers, [example]).encode("utf-8"), MEDIA_TYPES[fmt], name)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.title = layer.title.ja[:31]  # Excel's limit for a sheet's name
    sheet.append(headers)
    sheet.append([safe_cell(cell) for cell in example])
    out = io.BytesIO()
    book.save(out)
    return TemplateFile(out.getvalue(), MEDIA_TYPES[fmt], name)
