"""The source use cases every front end calls: set, show, list, pause/resume, run now, test.

Each owns its transaction and is audited like an upload.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.db import harvest, notices, queries, writes
from mapsvc.db.models import DatasetRow, HarvestFetchRow, HarvestSourceRow
from mapsvc.errors import Conflict, InvalidParameter, NotFound
from mapsvc.services import uploads
from mapsvc.services.harvest import notify
from mapsvc.services.harvest.catalogues import retrieve
from mapsvc.services.harvest.fetcher import FetchFailed, FetchPolicy, Resolver, system_resolver
from mapsvc.services.harvest.runs import RunResult, lease, run_source
from mapsvc.services.harvest.sources import SourceDefinition, upload_request_of
from mapsvc.services.transactions import unit_of_work
from mapsvc.settings import Settings

HISTORY = 20


def set_source(
    session: Session,
    *,
    layer: LayerDefinition,
    municipality: str,
    definition: SourceDefinition,
    actor: str,
) -> dict[str, Any]:
    """Give the dataset this source (or change it): due at once."""
    with unit_of_work(session):
        uploads.owner(session, municipality)
        dataset = writes.get_or_create_dataset(session, layer.id, municipality)
        values = definition.as_values()
        source = harvest.save_source(session, dataset.id, values | {"created_by": actor})
        notify.recovered(session, dataset, by=actor)  # a new definition starts afresh
        writes.insert_dataset_audit(
            session, dataset, actor=actor, action="source_set", detail=values
        )
    return source_view(source, dataset, harvest.history(session, source.id, HISTORY))


def show_source(session: Session, layer_id: str, municipality: str) -> dict[str, Any]:
    """The dataset's source with its health and latest fetches."""
    source, dataset = _found(session, layer_id, municipality)
    return source_view(source, dataset, harvest.history(session, source.id, HISTORY))


def list_sources(session: Session) -> list[dict[str, Any]]:
    """Every source and its health, for the admin and the CLI."""
    return [source_view(source, dataset) for source, dataset in harvest.list_sources(session)]


def pause_source(
    session: Session, layer_id: str, municipality: str, *, paused: bool, actor: str
) -> dict[str, Any]:
    """Pause (no more fetches) or resume (due at once) the dataset's source."""
    with unit_of_work(session):
        source, dataset = _found(session, layer_id, municipality)
        harvest.set_paused(session, source.id, paused)
        if paused:  # a person has acted on a failing source: stopping it is an answer
            notify.recovered(session, dataset, by=actor)
        writes.insert_dataset_audit(
            session,
            dataset,
            actor=actor,
            action="source_pause" if paused else "source_resume",
            detail={},
        )
    session.refresh(source)
    return source_view(source, dataset)


def discard(session: Session, layer_id: str, municipality: str, *, actor: str) -> dict[str, Any]:
    """Keep what is published and let the fetched file that waits for a person go.

    A staged version stays in the list (never published); the same file is not read again,
    and the next changed one is judged afresh.

    Raises
    ------
    Conflict
        If nothing the source fetched waits for a person.
    """
    with unit_of_work(session):
        source, dataset = _found(session, layer_id, municipality)
        waiting = waiting_version(harvest.history(session, source.id, HISTORY), source)
        if not harvest.settle(session, dataset.id):
            raise Conflict(
                "確認を待っている取得はありません", "Nothing fetched from this source waits"
            )
        notices.close(session, ("harvest_review",), layer_id, municipality, by=actor)
        writes.insert_dataset_audit(
            session, dataset, actor=actor, action="harvest_discard", detail={"version_id": waiting}
        )
    return show_source(session, layer_id, municipality)


def run_now(
    session: Session,
    settings: Settings,
    catalog: Catalog,
    layer_id: str,
    municipality: str,
    *,
    resolve: Resolver = system_resolver,
) -> RunResult:
    """Fetch the dataset's source now ("fetch now"), unless a worker is at it already."""
    with unit_of_work(session):
        source, _ = _found(session, layer_id, municipality)
        claimed = harvest.claim_due(session, lease(settings), source.id)
    if claimed is None:
        raise Conflict(
            "この取得元は取得中か、一時停止中です", "This source is being fetched now, or paused"
        )
    return run_source(session, settings, catalog, claimed, resolve=resolve)


def dry_run(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    municipality: str,
    definition: SourceDefinition,
    resolve: Resolver = system_resolver,
) -> dict[str, Any]:
    """A dry run: fetch the source and check its file as an upload would, writing nothing.

    Raises
    ------
    InvalidParameter
        When the file cannot be fetched (the reason in plain words).
    UploadRejected
        With the report, when the file would be rejected.
    """
    try:
        retrieved = retrieve(
            definition,
            municipality,
            FetchPolicy.from_settings(settings),
            max_rows=settings.imports.max_rows,
            resolve=resolve,
        )
    except FetchFailed as failure:
        raise InvalidParameter(failure.message_ja, failure.message_en) from None
    file = retrieved.source_file(definition.options)
    report = uploads.validate(
        session,
        settings,
        layer=layer,
        source=file,
        request=upload_request_of(definition.options),
        municipality=municipality,
    )
    size = len(file.content)
    return {"url": retrieved.fetched.url, "bytes": size, "sha256": file.sha256, "report": report}


def source_view(
    source: HarvestSourceRow,
    dataset: DatasetRow,
    fetches: list[HarvestFetchRow] | None = None,
) -> dict[str, Any]:
    """A source as the API and the CLI show it."""
    view: dict[str, Any] = {
        "layer": dataset.layer_id,
        "municipality": dataset.municipality_code,
        "kind": source.kind,
        "url": source.url,
        "reference": source.reference,
        "pick": source.pick,
        "options": source.options,
        "schedule": source.schedule,
        "max_removed_share": source.max_removed_share,
        "max_move_m": source.max_move_m,
    } | freshness_view(source)
    if fetches is not None:
        view["history"] = [fetch_view(f) for f in fetches]
        view["waiting_version_id"] = waiting_version(fetches, source)
    return view


def waiting_version(fetches: list[HarvestFetchRow], source: HarvestSourceRow) -> int | None:
    """The staged version that waits for a person, if the latest run that needed one made one."""
    if not source.needs_person:
        return None
    asked = next((f for f in fetches if f.outcome in ("staged", "rejected")), None)
    return asked.version_id if asked is not None else None


def freshness_view(source: HarvestSourceRow) -> dict[str, Any]:
    """Where the data comes from and how fresh it is: what the coverage page shows."""
    problem = (
        {"ja": source.problem_ja, "en": source.problem_en or ""} if source.problem_ja else None
    )
    return {
        "paused": source.paused,
        "next_run_at": _time(source.next_run_at),
        "last_checked_at": _time(source.last_checked_at),
        "last_changed_at": _time(source.last_changed_at),
        "failures": source.failures,
        "flagged": source.flagged,
        "needs_person": source.needs_person,
        "problem": problem,
    }


def fetch_view(fetch: HarvestFetchRow) -> dict[str, Any]:
    """One line of the fetch history."""
    return {
        "at": _time(fetch.at),
        "outcome": fetch.outcome,
        "http_status": fetch.http_status,
        "bytes": fetch.bytes,
        "sha256": fetch.sha256,
        "version_id": fetch.version_id,
        "message": {"ja": fetch.message_ja, "en": fetch.message_en} if fetch.message_ja else None,
    }


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _found(session: Session, layer_id: str, code: str) -> tuple[HarvestSourceRow, DatasetRow]:
    dataset = queries.find_dataset(session, layer_id, code)
    source = harvest.source_of(session, dataset.id) if dataset else None
    if dataset is None or source is None:
        raise NotFound(
            "このデータセットには取得元がありません", f"No source is set for {layer_id} of {code}"
        )
    return source, dataset
