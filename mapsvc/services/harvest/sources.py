"""A source: where a dataset's file is published, how to read it and when to fetch it.

Every front end (CLI, JSON API, later the staff pages) builds a ``SourceDefinition`` with
``source_definition`` from what its user typed: the URL passes the fetcher's rules, the
schedule is parsed, and the upload options pass ``uploads.upload_request`` — the very code an
upload's form fields go through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from mapsvc.db.models import HarvestSourceRow
from mapsvc.errors import InvalidParameter
from mapsvc.services import uploads
from mapsvc.services.harvest.fetcher import FetchFailed, FetchPolicy, checked_url
from mapsvc.services.uploads import UploadRequest

KINDS = ("file", "ckan", "bodik")
INTERVALS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
# Cron lines are read in the municipalities' time: "0 6 * * 1" is Monday 06:00 in Japan.
CRON_ZONE = ZoneInfo("Asia/Tokyo")
# The upload options a source may carry: the form fields of an upload, by the same names.
UPLOAD_FIELDS = ("format", "encoding", "crs", "sheet", "source_layer", "columns", "where")
UPLOAD_FLAGS = ("accept_partial", "town_positions")
DEFAULT_MAX_REMOVED_SHARE = 0.2  # a new file may drop at most a fifth of the features …
DEFAULT_MAX_MOVE_M = 1000.0  # … and move none further than this, to be published unattended


@dataclass(frozen=True, kw_only=True)
class SourceDefinition:
    """A checked source: what ``harvest_source`` stores besides its state."""

    kind: str
    url: str
    reference: str | None = None
    pick: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    schedule: str = "daily"
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE
    max_move_m: float = DEFAULT_MAX_MOVE_M

    def as_values(self) -> dict[str, Any]:
        """The row's columns."""
        return {
            "kind": self.kind,
            "url": self.url,
            "reference": self.reference,
            "pick": self.pick,
            "options": self.options,
            "schedule": self.schedule,
            "max_removed_share": self.max_removed_share,
            "max_move_m": self.max_move_m,
        }


def source_definition(
    policy: FetchPolicy,
    *,
    kind: str,
    url: str,
    reference: str | None = None,
    pick_format: str | None = None,
    pick_name: str | None = None,
    pick_tag: str | None = None,
    schedule: str = "daily",
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
    max_move_m: float = DEFAULT_MAX_MOVE_M,
    options: dict[str, Any] | None = None,
) -> SourceDefinition:
    """A source from what a user typed, every part checked (InvalidParameter, ja/en, if not)."""
    if kind not in KINDS:
        raise InvalidParameter(
            f"取得元の種類は {', '.join(KINDS)} のいずれかです", f"kind must be one of {KINDS}"
        )
    try:
        checked_url(url, policy)
    except FetchFailed as refused:
        raise InvalidParameter(refused.message_ja, refused.message_en) from None
    reference = (reference or "").strip() or None
    if kind != "file" and reference is None:
        raise InvalidParameter(
            "CKANのデータセットID、またはBODIK APIのAPI名を指定してください",
            "Name the CKAN dataset id or the BODIK API name (reference)",
        )
    if not 0 <= max_removed_share <= 1 or max_move_m < 0:
        raise InvalidParameter(
            "削除の上限は0〜1の割合、移動の上限は0以上のメートルで指定してください",
            "max_removed_share is a share from 0 to 1 and max_move_m a distance of 0 m or more",
        )
    given = {k: v for k, v in (options or {}).items() if v not in (None, "", False)}
    unknown = sorted(set(given) - set(UPLOAD_FIELDS) - set(UPLOAD_FLAGS) - {"data_date"})
    if unknown:
        raise InvalidParameter(
            f"取得元に指定できない読み込み設定です: {', '.join(unknown)}",
            f"Not an upload option: {', '.join(unknown)}",
        )
    upload_request_of(given)  # the upload's own checks: the same errors as a bad upload form
    next_due(schedule.strip(), datetime.now(CRON_ZONE))
    pick = {
        name: value.strip()
        for name, value in (("format", pick_format), ("name", pick_name), ("tag", pick_tag))
        if value and value.strip()
    }
    return SourceDefinition(
        kind=kind,
        url=url.strip(),
        reference=reference,
        pick=pick,
        options=given,
        schedule=schedule.strip(),
        max_removed_share=max_removed_share,
        max_move_m=max_move_m,
    )


def upload_request_of(options: dict[str, Any]) -> UploadRequest:
    """The upload request a source's stored options stand for (never publishing by itself)."""
    return uploads.upload_request(
        format=options.get("format"),
        encoding=options.get("encoding"),
        crs=options.get("crs"),
        sheet=options.get("sheet"),
        source_layer=options.get("source_layer"),
        columns=options.get("columns"),
        where=options.get("where"),
        data_date=options.get("data_date"),
        accept_partial=bool(options.get("accept_partial", False)),
        town_positions=bool(options.get("town_positions", False)),
    )


def definition_of(row: HarvestSourceRow) -> SourceDefinition:
    """A stored source's definition."""
    return SourceDefinition(
        kind=row.kind,
        url=row.url,
        reference=row.reference,
        pick=dict(row.pick),
        options=dict(row.options),
        schedule=row.schedule,
        max_removed_share=row.max_removed_share,
        max_move_m=row.max_move_m,
    )


def next_due(schedule: str, after: datetime) -> datetime:
    """When a source on ``schedule`` is next due after ``after``: hourly, daily, weekly or cron.

    >>> start = datetime(2026, 4, 1, 0, 0, tzinfo=CRON_ZONE)
    >>> next_due("daily", start).isoformat()
    '2026-04-02T00:00:00+09:00'
    >>> next_due("30 6 * * 1", start).isoformat()
    '2026-04-06T06:30:00+09:00'
    """
    if schedule in INTERVALS:
        return after + INTERVALS[schedule]
    try:
        if len(schedule.split()) != 5:
            raise CronSimError("five fields")
        return next(CronSim(schedule, after.astimezone(CRON_ZONE)))
    except (CronSimError, StopIteration):
        raise InvalidParameter(
            f"取得の予定「{schedule}」を読めません。hourly、daily、weekly、"
            "または cron の5項目（例: 30 6 * * 1 = 毎週月曜6時30分）で指定してください",
            f"Cannot read the schedule {schedule!r}: write hourly, daily, weekly or a five-field "
            "cron line (e.g. 30 6 * * 1 = Mondays at 06:30, Japan time)",
        ) from None


def backoff(failures: int) -> timedelta:
    """How long after its ``failures``-th failure in a row a source is tried again.

    >>> [backoff(n) // timedelta(hours=1) for n in (1, 2, 3, 4, 5, 6, 9)]
    [1, 2, 4, 8, 16, 24, 24]
    """
    return min(timedelta(hours=2 ** max(failures - 1, 0)), timedelta(days=1))
