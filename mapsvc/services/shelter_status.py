"""Shelter status on the day of a disaster: which site is open, and is there room.

Standards (issue #28; ``/README.md`` "Shelter status"):

- Status codes are the Cabinet Office's 災害対応基本共有情報 (EEI) v1.1 (2025-06), item 21 避難所,
  開設状況: 未開設 / 開設 / 閉鎖 / 不明 / 常設, with 避難者数, 開設日時, 閉鎖日時 and 定員状況.
- A site is (layer, municipality code, feature key); the key is GSI's 全国共通避難所・避難場所ID
  (共通ID) where the file has one, as SOBO-WEB joins on it. Status is a stream of events apart
  from the file versions: a new version keeps the status of every site it keeps, and correcting
  an address never looks like "opened". A mistaken change is undone by the next event.
- Crowding as VACAN and many municipalities show it (under 30 %, 30–60 %, 60–80 %, 80 % and over
  or 受け入れ不可), derived from the count and the capacity, never stored.
- Modes as L-Alert has them: 本番 (real), 訓練 (drill), テスト (test); residents see only real.
- Writes follow OGC API – Features Part 4 (1.0.0-draft.1): each site's state has a strong ETag
  ``"<layer>:<code>-<key>:<mode>:<revision>"``; a change naming another one fails (412), and a
  front end that requires ``If-Match`` refuses a change without one (428).

Every change owns its transaction, serialises with the other changes of its site, writes the
audit log, and counts as a publication: response caches drop and ETags move at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from importers.towns import TownIndex
from layers import Catalog
from mapsvc.db import shelter_status as db
from mapsvc.db import writes
from mapsvc.db.models import (
    SITE_STATUSES,
    STATUS_LAYERS,
    STATUS_MODES,
    ShelterStatusCurrentRow,
    ShelterStatusEventRow,
)
from mapsvc.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from mapsvc.services.transactions import unit_of_work

__all__ = ["SITE_STATUSES", "STATUS_LAYERS", "STATUS_MODES"]

# Words for people, in one place: EEI's 開設状況, L-Alert's modes, VACAN's crowding levels.
STATUS_LABELS: Mapping[str, Mapping[str, str]] = {
    "not_opened": {"ja": "未開設", "en": "Not opened"},
    "open": {"ja": "開設", "en": "Open"},
    "closed": {"ja": "閉鎖", "en": "Closed"},
    "unknown": {"ja": "不明", "en": "Unknown"},
    "permanent": {"ja": "常設", "en": "Always open"},
}
MODE_LABELS: Mapping[str, Mapping[str, str]] = {
    "real": {"ja": "本番", "en": "Real"},
    "drill": {"ja": "訓練", "en": "Drill"},
    "test": {"ja": "テスト", "en": "Test"},
}
CROWDING_LABELS: Mapping[str, Mapping[str, str]] = {
    "vacant": {"ja": "空いています", "en": "Vacant"},
    "somewhat": {"ja": "やや混雑", "en": "Somewhat crowded"},
    "crowded": {"ja": "混雑", "en": "Crowded"},
    "full": {"ja": "満", "en": "Full"},
    "unknown": {"ja": "不明", "en": "Unknown"},
}
# Upper bounds (exclusive) of each crowding level, as a share of the capacity.
CROWDING_LEVELS = (("vacant", 0.3), ("somewhat", 0.6), ("crowded", 0.8))
# Statuses in which a site takes people in: only there does crowding mean anything.
RECEIVING = ("open", "permanent")
# The hazards a site is designated for: the flags of the evacuation-site layer (GSI's eight).
HAZARDS = (
    "flood",
    "landslide",
    "storm_surge",
    "earthquake",
    "tsunami",
    "large_fire",
    "inland_flood",
    "volcano",
)
FIELDS = ("status", "accepting", "evacuees", "capacity", "note")  # what a change may set
# What a state row holds besides the site, mode and time: FIELDS and what changes derive.
STATE_FIELDS = ("revision", *FIELDS, "opened_at", "closed_at")
NOTE_MAX = 500
CAPACITY_ATTRIBUTE = "capacity"  # 想定収容人数, where the layer has it


def crowding(evacuees: int | None, capacity: int | None, accepting: bool) -> str:
    """The crowding level: ``full`` when not accepting; ``unknown`` without a count or capacity.

    Examples
    --------
    >>> [crowding(n, 100, True) for n in (0, 29, 30, 59, 60, 79, 80, 120)]
    ['vacant', 'vacant', 'somewhat', 'somewhat', 'crowded', 'crowded', 'full', 'full']
    >>> crowding(3, 100, False), crowding(None, 100, True), crowding(10, None, True)
    ('full', 'unknown', 'unknown')
    """
    if not accepting:
        return "full"
    if evacuees is None or not capacity:
        return "unknown"
    share = evacuees / capacity
    return next((level for level, below in CROWDING_LEVELS if share < below), "full")


def site_etag(layer: str, code: str, key: str, mode: str, revision: int) -> str:
    """The strong ETag of a site's status: it names the site, the mode and the revision."""
    return f'"{layer}:{code}-{key}:{mode}:{revision}"'


def item_id(layer: str, code: str, key: str) -> str:
    """The id of a site's item in the ``shelter_status`` collection: ``<layer>:<code>-<key>``."""
    return f"{layer}:{code}-{key}"


def parse_item_id(text: str) -> tuple[str, str, str]:
    """(layer, code, key) of an item id; 404 for one that cannot name a site.

    Examples
    --------
    >>> parse_item_id("evacuation_sites:272027-E2720200001201")
    ('evacuation_sites', '272027', 'E2720200001201')
    """
    layer, _, rest = text.partition(":")
    code, _, key = rest.partition("-")
    if layer not in STATUS_LAYERS or len(code) != 6 or not code.isdigit() or not key:
        raise NotFound(
            "その避難所・避難場所はありません", f"No site {text!r} (ids are <layer>:<code>-<key>)"
        )
    return layer, code, key


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


@dataclass(frozen=True)
class RecordedState:
    """What a site's state holds wherever it is read (now, or as a change left it): ``FIELDS``."""

    status: str
    accepting: bool
    evacuees: int | None
    capacity: int | None
    note: str

    @property
    def crowding(self) -> str:
        """The crowding level, where the site takes people in (``unknown`` elsewhere)."""
        if self.status not in RECEIVING:
            return "unknown"
        return crowding(self.evacuees, self.capacity, self.accepting)


@dataclass(frozen=True)
class SiteStatus(RecordedState):
    """A site's current status in one mode (``revision`` 0: nothing recorded yet)."""

    layer: str
    code: str
    key: str
    mode: str
    revision: int
    updated_at: datetime | None
    updated_by: str | None
    opened_at: datetime | None
    closed_at: datetime | None

    @property
    def etag(self) -> str:
        """The strong ETag of this state (``If-Match`` of the next change)."""
        return site_etag(self.layer, self.code, self.key, self.mode, self.revision)

    @classmethod
    def of_columns(
        cls, row: Any, *, mode: str, updated_at: datetime | None, updated_by: str | None
    ) -> SiteStatus:
        """The state in a row that has the site's and the state's columns (of either table)."""
        return cls(
            layer=row.layer_id,
            code=row.municipality_code,
            key=row.feature_key,
            mode=mode,
            updated_at=updated_at,
            updated_by=updated_by,
            **{name: getattr(row, name) for name in STATE_FIELDS},
        )

    @classmethod
    def of(cls, row: ShelterStatusCurrentRow) -> SiteStatus:
        """The view of a current-status row."""
        return cls.of_columns(
            row, mode=row.mode, updated_at=row.updated_at, updated_by=row.updated_by
        )

    @classmethod
    def of_event(cls, row: ShelterStatusEventRow) -> SiteStatus:
        """The state an event left (each event carries the whole state after it)."""
        return cls.of_columns(row, mode=row.mode, updated_at=row.recorded_at, updated_by=row.actor)

    def as_properties(self) -> dict[str, Any]:
        """The open-data properties a site's item carries (``mode`` marks drill and test)."""
        return {
            "status": self.status,
            "crowding": self.crowding,
            "evacuees": self.evacuees,
            "capacity": self.capacity,
            "statusUpdated": _iso(self.updated_at),
            "mode": self.mode,
        }


@dataclass(frozen=True)
class StatusEvent(RecordedState):
    """One change of a site's status, as it was recorded (``crowding``: the level it left)."""

    id: int
    mode: str
    revision: int
    recorded_at: datetime
    actor: str

    @classmethod
    def of(cls, row: ShelterStatusEventRow) -> StatusEvent:
        """The view of an event row."""
        return cls(
            id=row.id,
            mode=row.mode,
            revision=row.revision,
            recorded_at=row.recorded_at,
            actor=row.actor,
            **{name: getattr(row, name) for name in FIELDS},
        )


@dataclass(frozen=True)
class BoardSite:
    """A site as the disaster board lists it: what it is, where, and its status now."""

    layer: str
    code: str
    key: str
    name: str
    address: str
    hazards: tuple[str, ...]  # the hazards it is designated for (``HAZARDS``)
    district: Mapping[str, str] | None  # the ward, or the town (町丁目), in ja and en
    capacity: int | None  # the board's, else the data's 想定収容人数
    lon: float
    lat: float
    status: SiteStatus | None  # None: nothing recorded in this mode

    @property
    def item_id(self) -> str:
        """The site's id in the ``shelter_status`` collection."""
        return item_id(self.layer, self.code, self.key)


def check_mode(mode: str) -> str:
    """Refuse a mode that is not real, drill or test (400, bilingual)."""
    if mode not in STATUS_MODES:
        raise InvalidParameter(
            f"モードは {'・'.join(STATUS_MODES)} のどれかです",
            f"mode is one of {', '.join(STATUS_MODES)}, not {mode!r}",
        )
    return mode


def _check_layer(catalog: Catalog, layer: str) -> None:
    catalog[layer]  # an unknown layer: 404
    if layer not in STATUS_LAYERS:
        raise NotFound(
            f"{layer} の地物には開設状況がありません",
            f"Features of {layer} have no status (only {', '.join(STATUS_LAYERS)})",
        )


def _count(fields: Mapping[str, Any], name: str, minimum: int) -> int | None:
    value = fields[name]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameter(
            f"{name} は {minimum} 以上の整数か null です",
            f"{name} is an integer of at least {minimum}, or null",
        )
    return value


def checked_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The status fields of a change, checked (400 naming the first wrong one, in ja and en)."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidParameter(
            f"変更できる項目は {'・'.join(FIELDS)} です（{', '.join(unknown)} は変更できません）",
            f"The fields to change are {', '.join(FIELDS)}, not {', '.join(unknown)}",
        )
    checked = dict(fields)
    if "status" in checked and checked["status"] not in SITE_STATUSES:
        raise InvalidParameter(
            "status は "
            + "・".join(f"{s}（{STATUS_LABELS[s]['ja']}）" for s in SITE_STATUSES)
            + " のどれかです",
            f"status is one of {', '.join(SITE_STATUSES)}",
        )
    if "accepting" in checked and not isinstance(checked["accepting"], bool):
        raise InvalidParameter("accepting は true か false です", "accepting is true or false")
    for name, minimum in (("evacuees", 0), ("capacity", 1)):
        if name in checked:
            checked[name] = _count(checked, name, minimum)
    if "note" in checked:
        note = checked["note"]
        if not isinstance(note, str) or len(note) > NOTE_MAX:
            raise InvalidParameter(
                f"note は {NOTE_MAX} 文字以内の文字列です",
                f"note is a text of at most {NOTE_MAX} characters",
            )
    return checked


def _data_capacity(properties: Mapping[str, Any]) -> int | None:
    value = properties.get(CAPACITY_ATTRIBUTE)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _if_match_holds(if_match: str, etag: str) -> bool:
    """Strong comparison (RFC 9110 13.1.1): ``*`` or the very tag; a weak tag never matches."""
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or etag in tags


def _no_site(layer: str, code: str, key: str) -> NotFound:
    return NotFound(
        "その避難所・避難場所は公開されていません",
        f"No published site {item_id(layer, code, key)}",
    )


def _replayed(
    earlier: ShelterStatusEventRow, site: tuple[str, str, str, str], wanted: Mapping[str, Any]
) -> SiteStatus:
    """The answer to a retried change: its first result (the event's state), no second event."""
    if (earlier.layer_id, earlier.municipality_code, earlier.feature_key, earlier.mode) != site:
        raise db.change_id_of_another_site()
    # A retry sends what the first change sent; other content under the same id is a client's
    # mistake, and answering it with the first result would claim it was recorded.
    if any(getattr(earlier, name) != value for name, value in wanted.items()):
        raise Conflict(
            "この変更IDは別の内容の変更に使われています",
            "This change id was used for a change with other content",
        )
    return SiteStatus.of_event(earlier)


def _checked_change(
    catalog: Catalog, layer: str, mode: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """A change's fields, checked with its layer (404) and mode (400) before anything is locked."""
    _check_layer(catalog, layer)
    check_mode(mode)
    return checked_fields(fields)


def _apply(
    session: Session,
    actor: str,
    site: tuple[str, str, str, str],
    wanted: Mapping[str, Any],
    *,
    if_match: str | None = None,
    change_id: UUID | None = None,
    replace: bool = False,
) -> SiteStatus:
    """One change of one site, inside the caller's transaction."""
    layer, code, key, mode = site
    properties = db.published_site(session, layer, code, key)
    if properties is None:
        raise _no_site(layer, code, key)
    db.lock_site(session, *site)
    if change_id is not None and (earlier := db.event_by_change_id(session, change_id)):
        return _replayed(earlier, site, wanted)
    before = db.current_row(session, *site)
    revision = before.revision if before is not None else 0
    etag = site_etag(layer, code, key, mode, revision)
    if if_match is not None and not _if_match_holds(if_match, etag):
        raise PreconditionFailed(etag)
    values: dict[str, Any] = {
        "status": "not_opened",
        "accepting": True,
        "evacuees": None,
        "capacity": _data_capacity(properties),
        "note": "",
    }
    if before is not None and not replace:
        values |= {name: getattr(before, name) for name in FIELDS}
    values |= wanted
    now = db.record(
        session,
        {
            "layer_id": layer,
            "municipality_code": code,
            "feature_key": key,
            "mode": mode,
            "revision": revision + 1,
            **values,
            "actor": actor,
            "change_id": change_id,
        },
        opened_at=before.opened_at if before is not None else None,
        closed_at=before.closed_at if before is not None else None,
        opens=values["status"] == "open" and (before is None or before.status != "open"),
        closes=values["status"] == "closed" and (before is None or before.status != "closed"),
    )
    writes.insert_audit(
        session,
        actor=actor,
        action="status_change",
        result="ok",
        layer_id=layer,
        municipality_code=code,
        detail={"site": key, "mode": mode, "revision": revision + 1, "fields": dict(wanted)},
    )
    writes.mark_publication_changed(session)
    return SiteStatus.of(now)


def change(
    session: Session,
    catalog: Catalog,
    actor: str,
    layer: str,
    code: str,
    key: str,
    fields: Mapping[str, Any],
    *,
    mode: str = "real",
    if_match: str | None = None,
    change_id: UUID | None = None,
    require_if_match: bool = False,
    replace: bool = False,
) -> SiteStatus:
    """Change a published site's status (PATCH: the fields given; ``replace``: PUT, all of them).

    Fields are ``status``, ``accepting``, ``evacuees``, ``capacity``, ``note``; what a change
    leaves out stays as it was (with ``replace``: as for a site never changed, the capacity the
    data's 想定収容人数). Raises NotFound for a site that is not published, PreconditionFailed
    when ``if_match`` names another state, PreconditionRequired without it when required. A
    retry with the same ``change_id`` gets the first result and records nothing more.
    """
    wanted = _checked_change(catalog, layer, mode, fields)
    if replace and "status" not in wanted:
        raise InvalidParameter("置き換えるときは status が必要です", "A replacement needs a status")
    if require_if_match and if_match is None:
        raise PreconditionRequired()
    with unit_of_work(session):
        return _apply(
            session,
            actor,
            (layer, code, key, mode),
            wanted,
            if_match=if_match,
            change_id=change_id,
            replace=replace,
        )


def change_many(
    session: Session,
    catalog: Catalog,
    actor: str,
    layer: str,
    code: str,
    keys: Sequence[str],
    fields: Mapping[str, Any],
    *,
    mode: str,
) -> list[SiteStatus]:
    """The same change to several sites of one municipality, all or none (one transaction).

    Sites are locked in key order, so two such changes never wait on each other in a circle.
    """
    wanted = _checked_change(catalog, layer, mode, fields)
    with unit_of_work(session):
        return [
            _apply(session, actor, (layer, code, key, mode), wanted) for key in sorted(set(keys))
        ]


def current(
    session: Session, layer: str, code: str | None = None, *, mode: str = "real"
) -> dict[tuple[str, str], SiteStatus]:
    """Every recorded site status of the layer (of one municipality) in a mode, by (code, key).

    A site a later file version no longer has keeps its row here; readers join on the
    published features.
    """
    check_mode(mode)
    return {
        (row.municipality_code, row.feature_key): SiteStatus.of(row)
        for row in db.current_rows(session, layer, code, mode)
    }


def recorded_status(
    session: Session, layer: str, code: str, key: str, *, mode: str = "real"
) -> SiteStatus | None:
    """One published site's status; None where nothing is recorded in the mode.

    No status is claimed for such a site: its item says ``status: null``. NotFound for a site
    that is not published.
    """
    check_mode(mode)
    if db.published_site(session, layer, code, key) is None:
        raise _no_site(layer, code, key)
    row = db.current_row(session, layer, code, key, mode)
    return SiteStatus.of(row) if row is not None else None


def timeline(
    session: Session, layer: str, code: str, key: str, *, mode: str = "real"
) -> list[StatusEvent]:
    """The site's changes in a mode, oldest first."""
    check_mode(mode)
    return [StatusEvent.of(row) for row in db.events(session, layer, code, key, mode)]


def _district(row: Any, towns: TownIndex | None) -> Mapping[str, str] | None:
    if row.ward_code is not None:
        return {"code": row.ward_code, "ja": row.ward_ja, "en": row.ward_en}
    address = row.properties.get("address")
    town = towns.match(address) if towns is not None and isinstance(address, str) else None
    return {"code": "", "ja": town.town, "en": town.town} if town is not None else None


def board_sites(
    session: Session,
    catalog: Catalog,
    code: str,
    *,
    mode: str = "real",
    hazard: str | None = None,
    district: str | None = None,
    towns: TownIndex | None = None,
) -> list[BoardSite]:
    """The municipality's published sites of both layers, with their status in ``mode``.

    ``hazard``: only the sites designated for it (shelters carry no designation, so none of
    them). ``district``: only the sites in that ward (its code or name) or town (its name). The
    district is the ward a site lies in; outside the wards, its town (町丁目) as ``towns``
    (``services.towns.town_index``) reads it from the address; None where neither is known.
    """
    check_mode(mode)
    if hazard is not None and hazard not in HAZARDS:
        raise InvalidParameter(
            f"災害の種類は {'・'.join(HAZARDS)} のどれかです",
            f"hazard is one of {', '.join(HAZARDS)}, not {hazard!r}",
        )
    statuses = {
        (layer, key): status
        for layer in STATUS_LAYERS
        for (_, key), status in current(session, layer, code, mode=mode).items()
    }
    found: list[BoardSite] = []
    for row in db.published_sites(session, STATUS_LAYERS, code):
        properties: Mapping[str, Any] = row.properties
        hazards = tuple(h for h in HAZARDS if properties.get(h) is True)
        where = _district(row, towns)
        if hazard is not None and hazard not in hazards:
            continue
        if district is not None and (where is None or district not in where.values()):
            continue
        status = statuses.get((row.layer_id, row.feature_key))
        layer = catalog[row.layer_id]
        found.append(
            BoardSite(
                layer=row.layer_id,
                code=code,
                key=row.feature_key,
                name=str(properties.get(layer.name_attribute) or ""),
                address=str(properties.get("address") or ""),
                hazards=hazards,
                district=where,
                capacity=status.capacity if status else _data_capacity(properties),
                lon=row.lon,
                lat=row.lat,
                status=status,
            )
        )
    return found
