"""One harvest run: fetch a source; a changed file is staged, and published if nothing looks wrong.

A changed file goes through ``uploads.upload`` (same reader, report, checks and audit as a
clerk's upload) as a staged version. It is published unattended only when its report has no
error and its diff against the published version stays within the source's limits (by default
at most 20 % of the features removed and none moved more than 1 km); otherwise it waits,
staged, and the source is marked as needing a person, with the reason in plain words. Every
run adds one line to the fetch history, and a failure backs the source off (1 h, 2 h, 4 h … a
day); three failures in a row flag it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.db import harvest, queries
from mapsvc.db.models import DatasetRow, HarvestSourceRow
from mapsvc.errors import UploadRejected
from mapsvc.services import uploads
from mapsvc.services.diff import diff_versions
from mapsvc.services.harvest import notify
from mapsvc.services.harvest.catalogues import retrieve
from mapsvc.services.harvest.fetcher import FetchFailed, FetchPolicy, Resolver, system_resolver
from mapsvc.services.harvest.sources import backoff, definition_of, next_due, upload_request_of
from mapsvc.services.transactions import unit_of_work
from mapsvc.services.versions import publish
from mapsvc.services.views import VersionView
from mapsvc.settings import Settings

FLAG_AFTER_FAILURES = 3
# The fetch history kept per source: at one fetch a day, more than six months of it; an hourly
# source keeps about eight days (the audit log keeps every version made, whatever goes here).
KEEP_FETCHES = 200
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """How a run went: the fetch history's line."""

    outcome: str  # unchanged | published | staged | rejected | failed
    http_status: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    version_id: int | None = None
    message_ja: str | None = None
    message_en: str | None = None
    # The new file's validators, for the next conditional GET (not part of the history).
    etag: str | None = None
    last_modified: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fetch history's line, JSON-ready."""
        found = dataclasses.asdict(self)
        del found["etag"], found["last_modified"]
        return found


def lease(settings: Settings) -> timedelta:
    """How long a claimed source stays with its worker: a whole fetch and upload, and a margin."""
    seconds = settings.harvest.total_timeout_s + settings.imports.upload_timeout_s + 60
    return timedelta(seconds=seconds)


def run_source(
    session: Session,
    settings: Settings,
    catalog: Catalog,
    source_id: int,
    *,
    resolve: Resolver = system_resolver,
) -> RunResult:
    """Run one source the caller has claimed, record the result and release the claim."""
    source = harvest.get_source(session, source_id)
    dataset = session.get(DatasetRow, source.dataset_id) if source else None
    if source is None or dataset is None:
        raise LookupError(f"no harvest source {source_id}")
    layer = catalog[dataset.layer_id]
    try:
        result = _run(session, settings, layer, dataset, source, resolve)
    except FetchFailed as failure:
        result = RunResult(
            "failed", failure.status, message_ja=failure.message_ja, message_en=failure.message_en
        )
    was_flagged = source.flagged
    with unit_of_work(session):
        harvest.record_fetch(session, source, result.as_dict(), _changes(session, source, result))
        harvest.forget_fetches(session, source.id, keep=KEEP_FETCHES)
        message = _tell(session, settings, layer, dataset, source, result, was_flagged)
    if message is not None:  # after the commit: the notice stands whether or not mail works
        message.send(settings)
    log.info(
        "harvest %s/%s: %s",
        dataset.layer_id,
        dataset.municipality_code,
        result.outcome,
        extra={"source_id": source.id, "outcome": result.outcome},
    )
    return result


def _tell(
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    dataset: DatasetRow,
    source: HarvestSourceRow,
    result: RunResult,
    was_flagged: bool,
) -> notify.Message | None:
    """Tell the municipality what needs a person now (the mail to send), or that it no longer does."""
    problem = (result.message_ja or "", result.message_en or "")
    if result.outcome in ("staged", "rejected"):
        return notify.tell(
            session,
            settings,
            layer,
            dataset,
            kind="harvest_review",
            problem=problem,
            version_id=result.version_id,
        )
    if source.flagged and not was_flagged:
        return notify.tell(
            session,
            settings,
            layer,
            dataset,
            kind="harvest_failing",
            problem=problem,
            failures=source.failures,
        )
    if was_flagged and not source.flagged:
        notify.recovered(session, dataset, by=notify.ACTOR)
    return None


def _run(
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    dataset: DatasetRow,
    source: HarvestSourceRow,
    resolve: Resolver,
) -> RunResult:
    retrieved = retrieve(
        definition_of(source),
        dataset.municipality_code,
        FetchPolicy.from_settings(settings),
        etag=source.etag,
        last_modified=source.last_modified,
        max_rows=settings.imports.max_rows,
        resolve=resolve,
    )
    fetched = retrieved.fetched
    if fetched.status == 304:
        return RunResult("unchanged", 304, 0, source.last_sha256)
    file = retrieved.source_file(source.options)
    seen = RunResult(
        "unchanged",
        fetched.status,
        len(fetched.content),
        file.sha256,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
    )
    if file.sha256 == source.last_sha256:
        return seen
    try:
        uploaded = uploads.upload(
            session,
            settings,
            layer=layer,
            municipality=dataset.municipality_code,
            source=file,
            request=upload_request_of(source.options),
            actor=f"harvest:{source.id}",
        )
    except UploadRejected as rejected:
        errors = len(rejected.report.get("errors", []))
        return dataclasses.replace(
            seen,
            outcome="rejected",
            message_ja=f"新しいファイルを読み込めませんでした（エラー {errors} 件）。"
            "ファイルを直すか、読み込み設定を見直してください",
            message_en=f"The new file could not be read ({errors} errors): fix the file or "
            "the source's reading options",
        )
    version = uploaded.version
    if not uploaded.created or version.status == "published":
        return dataclasses.replace(seen, version_id=version.id)
    blockers = _blockers(session, layer, dataset, version, source)
    if blockers:
        return dataclasses.replace(
            seen,
            outcome="staged",
            version_id=version.id,
            message_ja="新しい版を公開前に確認してください: " + "。".join(b[0] for b in blockers),
            message_en="Check the new version before it is published: "
            + "; ".join(b[1] for b in blockers),
        )
    with unit_of_work(session):
        publish(session, version.id, f"harvest:{source.id}")
    return dataclasses.replace(seen, outcome="published", version_id=version.id)


def _blockers(
    session: Session,
    layer: LayerDefinition,
    dataset: DatasetRow,
    version: VersionView,
    source: HarvestSourceRow,
) -> list[tuple[str, str]]:
    """Why the new version should not go out unattended, in ja and en (none: publish it)."""
    found: list[tuple[str, str]] = []
    errors = len(version.report.get("errors", []))
    if errors:
        found.append(
            (
                f"エラーのある行が {errors} 件あり、その行は除かれています",
                f"{errors} rows have errors and were left out",
            )
        )
    current = dataset.current_version_id
    if current is None:
        return found
    diff = diff_versions(session, layer, dataset.id, old_id=current, new_id=version.id)
    published = queries.get_version(session, current)
    before = published.feature_count if published else 0
    removed = diff.counts["removed"]
    if before and removed / before > source.max_removed_share:
        found.append(
            (
                f"公開中の {before} 件のうち {removed} 件がなくなります"
                f"（上限 {source.max_removed_share:.0%}）",
                f"{removed} of the {before} published features would disappear "
                f"(limit {source.max_removed_share:.0%})",
            )
        )
    if diff.largest_move_m > source.max_move_m:
        found.append(
            (
                f"位置が最大 {diff.largest_move_m:,.0f} m 動きます（上限 {source.max_move_m:,.0f} m）",
                f"A feature moves {diff.largest_move_m:,.0f} m (limit {source.max_move_m:,.0f} m)",
            )
        )
    return found


def _changes(session: Session, source: HarvestSourceRow, result: RunResult) -> dict[str, Any]:
    """What the run changes on its source: schedule, validators, health, the plain-words problem."""
    now = harvest.now(session)
    if result.outcome == "failed":
        failures = source.failures + 1
        return {
            "failures": failures,
            "flagged": failures >= FLAG_AFTER_FAILURES,
            "next_run_at": now + backoff(failures),
            "problem_ja": result.message_ja,
            "problem_en": result.message_en,
        }
    changes: dict[str, Any] = {
        "failures": 0,
        "flagged": False,
        "next_run_at": next_due(source.schedule, now),
    }
    if not source.needs_person:
        changes |= {"problem_ja": None, "problem_en": None}  # an earlier failure is over
    if result.http_status == 200:  # a file came: its validators serve the next conditional GET
        changes |= {
            "etag": result.etag,
            "last_modified": result.last_modified,
            "last_sha256": result.sha256,
        }
    if result.outcome == "unchanged":
        return changes
    changes |= {
        "needs_person": result.outcome in ("staged", "rejected"),
        "problem_ja": result.message_ja,
        "problem_en": result.message_en,
    }
    if result.outcome in ("published", "staged"):
        changes["last_changed_at"] = now
    return changes
