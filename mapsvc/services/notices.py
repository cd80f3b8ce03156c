"""Notices to staff: an editor asks the municipality's publishers to publish a version.

(The harvest tells the same publishers what needs a person the same way: ``harvest.notify``.)

A notice is kept in ``staff_notice`` (audited), shown at the top of the home page of everyone
who may act on it, and mailed to the publishers whose login is an address when a mail server
is configured. It is done when a version of its dataset is published (``versions._flip``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from layers import Catalog, LayerDefinition
from mapsvc.db import notices, queries, writes
from mapsvc.db.models import StaffNoticeRow
from mapsvc.errors import Conflict, NotFound
from mapsvc.services import mail
from mapsvc.services.roles import PUBLISH
from mapsvc.services.staff_sessions import StaffPrincipal
from mapsvc.services.transactions import unit_of_work
from mapsvc.services.views import Words
from mapsvc.settings import Settings

SUBJECT = "公開の依頼 / Request to publish: {title} ({municipality})"
BODY = """{who} さんが、{municipality}の「{title}」版 {number} の公開を依頼しました。
確認して公開してください：{link}

{who} asks you to publish version {number} of "{title_en}" for {municipality_en}.
Check it and publish it: {link}
"""


@dataclass(frozen=True)
class Notice:
    """A notice as the home page lists it."""

    id: int
    kind: str
    at: datetime
    actor: str
    municipality_code: str
    municipality: Words
    layer_id: str | None
    layer: Words
    version_id: int | None
    version_number: int | None
    problem: Words | None = None  # a harvest notice's reason, in plain words


@dataclass(frozen=True)
class RequestMade:
    """Who was asked to publish, and how many of them were mailed."""

    publishers: tuple[str, ...]
    mailed: int
    already: bool  # an open request for this version was there before


def request_publication(
    session: Session,
    settings: Settings,
    *,
    layer: LayerDefinition,
    code: str,
    version_id: int,
    actor: str,
    link: str,
) -> RequestMade:
    """Ask the municipality's publishers to publish a staged version (once per version).

    Raises
    ------
    NotFound
        If the dataset has no such version.
    Conflict
        If the version is not waiting to be published.
    """
    with unit_of_work(session):
        dataset = queries.find_dataset(session, layer.id, code)
        version = queries.get_version(session, version_id)
        if dataset is None or version is None or version.dataset_id != dataset.id:
            raise NotFound(
                "このデータセットにその版はありません", f"No version {version_id} in this dataset"
            )
        if version.status != "staged":
            raise Conflict(
                "公開を依頼できるのは未公開の版だけです",
                f"Only a version that waits to be published can be put forward (version "
                f"{version.number} is {version.status})",
            )
        publishers = tuple(u.login for u in notices.publishers_of(session, code))
        already = notices.open_request(session, version.id) is not None
        if not already:
            writes.insert_row(
                session,
                StaffNoticeRow(
                    kind="publish_request",
                    municipality_code=code,
                    layer_id=layer.id,
                    version_id=version.id,
                    actor=actor,
                    detail={"number": version.number},
                ),
            )
            writes.insert_dataset_audit(
                session,
                dataset,
                actor=actor,
                action="publish_request",
                version_id=version.id,
                detail={"publishers": list(publishers)},
            )
        place = queries.get_municipality(session, code)
        where = Words(place.name_ja, place.name_en) if place else Words(code, code)
        number = version.number
    if already:
        return RequestMade(publishers, 0, already)
    subject = SUBJECT.format(title=layer.title.ja, municipality=where.ja)
    body = BODY.format(
        who=actor.removeprefix("staff:"),
        municipality=where.ja,
        municipality_en=where.en,
        title=layer.title.ja,
        title_en=layer.title.en,
        number=number,
        link=link,
    )
    return RequestMade(publishers, mail_publishers(settings, publishers, subject, body), already)


def mail_publishers(
    settings: Settings, publishers: tuple[str, ...], subject: str, body: str
) -> int:
    """Mail each publisher (after the commit: the notice stands whether or not mail works)."""
    outcomes = [mail.send(settings, to=login, subject=subject, body=body) for login in publishers]
    return outcomes.count("sent")  # a failed mail is logged; the notice on the home page stands


def notices_for(session: Session, catalog: Catalog, principal: StaffPrincipal) -> list[Notice]:
    """Open notices the person may act on: those of the municipalities where they may publish."""
    codes = (
        None if principal.is_admin else [c for c in principal.roles if principal.may(PUBLISH, c)]
    )
    if codes == []:
        return []
    rows = notices.open_notices(session, codes)
    numbers = notices.version_numbers(session, [r.version_id for r in rows if r.version_id])
    names = {m.code: m for m in queries.list_municipalities(session)}
    found = []
    for row in rows:
        layer = catalog.get(row.layer_id) if row.layer_id else None
        place = names[row.municipality_code]
        found.append(
            Notice(
                id=row.id,
                kind=row.kind,
                at=row.at,
                actor=row.actor,
                municipality_code=row.municipality_code,
                municipality=Words(place.name_ja, place.name_en),
                layer_id=row.layer_id,
                layer=Words(layer.title.ja, layer.title.en) if layer else Words("", ""),
                version_id=row.version_id,
                version_number=numbers.get(row.version_id) if row.version_id else None,
                problem=Words(row.detail["problem_ja"], row.detail["problem_en"])
                if "problem_ja" in row.detail
                else None,
            )
        )
    return found


def requested(session: Session, version_id: int) -> bool:
    """Whether someone has asked for this version to be published (and it is not done)."""
    return notices.open_request(session, version_id) is not None
