"""Which sites are open: the nearest ones whose municipality reports them open, for real.

Open means the current ``real`` status is ``open`` or ``permanent`` (EEI 開設 / 常設) and the
municipality has not said it can take no one (受け入れ不可): a drill's or a test's status never
counts, and a site without a published status is never called open. Where none of the nearest
designated sites has a status at all, the answer says so ("開設状況は未発表") instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from sqlalchemy.orm import Session

from layers import AttributeType, LayerDefinition
from mapsvc.db import places
from mapsvc.errors import InvalidParameter
from mapsvc.services.here import distance_text, site_of
from mapsvc.services.places import NearestRequest, Spot, collection_json, nearest_rows
from mapsvc.services.publications import PublicationState
from mapsvc.services.shelter_status import (
    CROWDING_LABELS,
    HAZARDS,
    STATUS_LABELS,
    SiteStatus,
    current,
)

JAPAN_TIME = timezone(timedelta(hours=9))
OpenStatus = Literal["open", "none_open", "not_published", "no_site"]
# "Not published" is judged on this many of the nearest designated sites: none has a status.
NEAREST_DESIGNATED = 5
NOTES: dict[str, dict[str, str]] = {
    "open": {"ja": "開設中と発表された場所です", "en": "Reported open by the municipality"},
    "none_open": {
        "ja": "開設中と発表された場所はありません",
        "en": "None is reported open",
    },
    "not_published": {
        "ja": "開設状況は未発表です（開設しているとは限りません）",
        "en": "Opening status not published (status not published): they may not be open",
    },
    "no_site": {"ja": "該当する場所はありません", "en": "There is no such site"},
}


def hazard_flags(layer: LayerDefinition) -> dict[str, dict[str, str]]:
    """The hazards a layer's sites are designated for (its ``HAZARDS`` flags), with labels."""
    flags = {a.name: a for a in layer.attributes if a.type is AttributeType.FLAG}
    return {name: flags[name].label.model_dump() for name in HAZARDS if name in flags}


def unknown_hazard(known: dict[str, dict[str, str]]) -> InvalidParameter:
    """400 naming the hazards one may ask about."""
    names = ", ".join(known) or "-"
    return InvalidParameter(
        f"hazard には次のいずれかを指定してください：{names}",
        f"hazard must be one of: {names}",
    )


def hazard_filter(layer: LayerDefinition, hazard: str | None) -> dict[str, bool]:
    """``hazard=flood`` as the filter ``flood=true`` (400 where the layer has no such flag)."""
    if hazard is None:
        return {}
    known = hazard_flags(layer)
    if hazard not in known:
        raise unknown_hazard(known)
    return {hazard: True}


@dataclass(frozen=True)
class OpenSearch:
    """The nearest open site for a hazard, or why there is none.

    ``status``: ``open`` (``site`` is open), ``none_open`` (statuses are published near here,
    none open: ``site`` is the nearest designated one, with its status), ``not_published`` (none
    of the nearest designated sites has a status: ``site`` is the nearest, open or not unknown),
    ``no_site`` (nothing is designated for this hazard).
    """

    status: OpenStatus
    site: dict[str, Any] | None


def _key(row: Any) -> tuple[str, str]:
    """(municipality, feature key) of a nearest row, whose id is ``<municipality>-<key>``."""
    feature_id, owner = row[0], row[4]
    return owner, feature_id.removeprefix(f"{owner}-")


def statuses(session: Session, layer_id: str, rows: list[Any]) -> list[SiteStatus | None]:
    """The current real status of each nearest row's site (None: nothing published for it)."""
    known: dict[tuple[str, str], SiteStatus] = {}
    for code in sorted({row[4] for row in rows}):
        known |= current(session, layer_id, code)
    return [known.get(_key(row)) for row in rows]


def _site(session: Session, row: Any, status: SiteStatus | None) -> dict[str, Any]:
    return site_of(session, row) | {"status": status.as_properties() if status else None}


def none_open(
    session: Session, layer_id: str, spot: Spot, equals: dict[str, Any]
) -> tuple[OpenStatus, Any, SiteStatus | None]:
    """Why no site is open: statuses published near here or not, and the nearest designated."""
    rows = places.nearest(
        session, layer_id, lon=spot.lon, lat=spot.lat, limit=NEAREST_DESIGNATED, equals=equals
    )
    if not rows:
        return "no_site", None, None
    found = statuses(session, layer_id, list(rows))
    return ("none_open" if any(found) else "not_published"), rows[0], found[0]


def nearest_for(session: Session, flag: str, *, spot: Spot, layer_id: str) -> OpenSearch:
    """The nearest site of ``layer_id`` designated for ``flag`` that is open (see the module)."""
    equals = {flag: True}
    opened = places.nearest(
        session, layer_id, lon=spot.lon, lat=spot.lat, limit=1, equals=equals, open_only=True
    )
    if opened:
        return OpenSearch(
            "open", _site(session, opened[0], statuses(session, layer_id, [opened[0]])[0])
        )
    status, row, site_status = none_open(session, layer_id, spot, equals)
    return OpenSearch(status, _site(session, row, site_status) if row else None)


def _when(status: dict[str, Any]) -> dict[str, str] | None:
    """When the status was updated, as 18:05更新 in Japan time.

    A clock time, not 5 分前, so an answer a cache keeps stays true.
    """
    if not status.get("statusUpdated"):
        return None
    at = datetime.fromisoformat(status["statusUpdated"]).astimezone(JAPAN_TIME)
    return {"ja": f"{at:%H:%M}更新", "en": f"updated {at:%H:%M}"}


def site_text(search: OpenSearch, hazard: dict[str, str]) -> dict[str, str]:
    """The line that says where to go: the open site with its crowding, or why none is.

    Where none is named open, the nearest designated site, as not known to be open.
    """
    site = search.site
    if site is None:
        return {
            "ja": f"{hazard['ja']}の指定緊急避難場所のデータがありません",
            "en": f"No evacuation site for {hazard['en'].lower()} is in the data",
        }
    where, far = site["municipality"]["name"], distance_text(site["distance_m"])
    name = {"ja": f"{where['ja']}の{site['name']}", "en": f"{site['name']} in {where['en']}"}
    status = site["status"] or {}
    if search.status == "open":
        words = [w for w in (CROWDING_LABELS.get(status["crowding"]), _when(status)) if w]
        ja = "、".join([far, *(w["ja"] for w in words)])
        en = ", ".join([far, *(w["en"].lower() for w in words)])
        return {
            "ja": f"開設中の最寄りの{hazard['ja']}の避難場所：{name['ja']}（{ja}）",
            "en": f"Nearest open site for {hazard['en'].lower()}: {name['en']} ({en})",
        }
    if search.status == "not_published":
        return {
            "ja": f"開設状況は未発表です。最寄りの{hazard['ja']}の指定緊急避難場所は"
            f"{name['ja']}（{far}）ですが、開設しているとは限りません",
            "en": f"Opening status not published (status not published). The nearest site "
            f"designated for {hazard['en'].lower()} is {name['en']} ({far}); it may not be open",
        }
    now = STATUS_LABELS.get(status.get("status", ""), {"ja": "開設状況未発表", "en": "no status"})
    return {
        "ja": f"開設中と発表された{hazard['ja']}の避難場所はありません。最寄りの指定緊急避難場所は"
        f"{name['ja']}（{far}、{now['ja']}）です",
        "en": f"No site for {hazard['en'].lower()} is reported open. The nearest designated "
        f"site is {name['en']} ({far}, {now['en'].lower()})",
    }


def open_collection(
    session: Session, request: NearestRequest, publications: PublicationState
) -> bytes:
    """``/api/nearest?open=true``: the nearest open features, each with its status properties.

    ``openStatus`` and a ja/en ``note`` say whether any is open and, if none, why.
    """
    rows = nearest_rows(session, request)
    layer_id = request.layer.id
    if rows:
        status: OpenStatus = "open"
        found = statuses(session, layer_id, rows)
        extra = [s.as_properties() if s else {} for s in found]
    else:
        status, _, _ = none_open(session, layer_id, request.spot, dict(request.equals))
        extra = []
    members = {"openStatus": status, "note": NOTES[status]}
    sources = publications.sources(session, layer_id)
    return collection_json(request, rows, sources, extra=extra, members=members)
