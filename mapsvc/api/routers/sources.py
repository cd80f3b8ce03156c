"""A dataset's harvest source: set, show, test, fetch now, pause and resume (key-authorised).

The same use cases as ``mapsvc sources …``; the key is checked on the routed dataset exactly as
for uploads: a source publishes on its own, so setting, running or resuming one is a publisher's
right (``PublishableDep``); a dry run or a pause an editor's (``UploadableDep``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from mapsvc.api.deps import CatalogDep, LayerDep, PrincipalDep, SessionDep, SettingsDep
from mapsvc.api.responses import FastJSONResponse
from mapsvc.api.routers.datasets import MunicipalityDep, PublishableDep, UploadableDep
from mapsvc.services.harvest import manage
from mapsvc.services.harvest.fetcher import FetchPolicy
from mapsvc.services.harvest.sources import (
    DEFAULT_MAX_MOVE_M,
    DEFAULT_MAX_REMOVED_SHARE,
    SourceDefinition,
    source_definition,
)
from mapsvc.services.slots import Slots
from mapsvc.settings import Settings

router = APIRouter(prefix="/api/datasets/{layer}/{municipality}/source", tags=["sources"])
Text = Annotated[str | None, Field(max_length=500)]


class SourceBody(BaseModel):
    """Where the dataset's file is published, how to read it and when to fetch it."""

    kind: Literal["file", "ckan", "bodik"]
    url: str = Field(max_length=2000, description="the file, the CKAN catalogue or the BODIK API")
    reference: Text = Field(None, description="CKAN dataset id or BODIK API name (aed, …)")
    pick_format: Text = Field(None, description="CKAN: the resource's format, e.g. CSV")
    pick_name: Text = Field(None, description="CKAN: text in the resource's name")
    pick_tag: Text = Field(None, description="CKAN: a tag the dataset must carry")
    schedule: str = Field("daily", max_length=100, description="hourly, daily, weekly or cron")
    max_removed_share: float = Field(DEFAULT_MAX_REMOVED_SHARE, ge=0, le=1, allow_inf_nan=False)
    max_move_m: float = Field(DEFAULT_MAX_MOVE_M, ge=0, le=1_000_000, allow_inf_nan=False)
    options: dict[str, str | bool] = Field(
        default_factory=dict,
        max_length=20,
        description="the upload's form fields: format, encoding, crs, sheet, columns, where…",
    )

    def definition(self, settings: Settings) -> SourceDefinition:
        """The checked definition (400 with ja/en when any part is wrong)."""
        return source_definition(
            FetchPolicy.from_settings(settings),
            **self.model_dump(exclude={"options"}),
            options=self.options,
        )


@router.get("", response_class=FastJSONResponse)
def get_source(session: SessionDep, layer: LayerDep, municipality: MunicipalityDep) -> Any:
    """The source, its health (last checked, last changed, the last problem) and latest fetches."""
    return manage.show_source(session, layer.id, municipality)


@router.put("", response_class=FastJSONResponse)
def put_source(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    layer: LayerDep,
    municipality: PublishableDep,
    body: SourceBody,
) -> Any:
    """Set (or change) the dataset's source; it is fetched at the next scheduler round."""
    return manage.set_source(
        session,
        layer=layer,
        municipality=municipality,
        definition=body.definition(settings),
        actor=principal.actor,
    )


@router.post("/test", response_class=FastJSONResponse)
def test_source(
    http: Request,
    session: SessionDep,
    settings: SettingsDep,
    layer: LayerDep,
    municipality: UploadableDep,
    body: SourceBody,
) -> Any:
    """Fetch a source and check its file as an upload would, saving nothing: the report (or 422)."""
    slots: Slots = http.app.state.upload_slots
    with slots.held():
        return manage.dry_run(
            session,
            settings,
            layer=layer,
            municipality=municipality,
            definition=body.definition(settings),
        )


@router.post("/run", response_class=FastJSONResponse)
def run_source(
    http: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    layer: LayerDep,
    municipality: PublishableDep,
) -> dict[str, Any]:
    """Fetch now: the fetch history's new line (409 while a worker is fetching it already)."""
    slots: Slots = http.app.state.upload_slots
    with slots.held():
        result = manage.run_now(session, settings, catalog, layer.id, municipality)
    return result.as_dict()


@router.post("/pause", response_class=FastJSONResponse)
def pause(
    session: SessionDep, principal: PrincipalDep, layer: LayerDep, municipality: UploadableDep
) -> dict[str, Any]:
    """Stop fetching the source (the published data stays)."""
    return manage.pause_source(session, layer.id, municipality, paused=True, actor=principal.actor)


@router.post("/resume", response_class=FastJSONResponse)
def resume(
    session: SessionDep, principal: PrincipalDep, layer: LayerDep, municipality: PublishableDep
) -> dict[str, Any]:
    """Fetch the source again (due at once)."""
    return manage.pause_source(session, layer.id, municipality, paused=False, actor=principal.actor)
