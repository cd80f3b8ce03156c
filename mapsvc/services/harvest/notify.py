"""Tell the municipality when its source needs a person, and when it no longer does.

A notice on the staff home page of its publishers, and mail when a mail server is set (the
notices of ``mapsvc.services.notices``):

- ``harvest_review``: a fetched file was not published on its own (errors, or a change past
  the source's limits, or a file that cannot be read). It names what changed and what to
  check, with one button to publish and one to discard; it is done when a version of the
  dataset is published or the file is discarded. A newer such file replaces it.
- ``harvest_failing``: the source has just failed ``FLAG_AFTER_FAILURES`` times in a row; done
  when a fetch works again or a person saves or pauses the source.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from layers import LayerDefinition
from mapsvc.db import notices, queries, writes
from mapsvc.db.models import DatasetRow, StaffNoticeRow
from mapsvc.services.notices import mail_publishers
from mapsvc.settings import Settings

ACTOR = "harvest"
REVIEW_SUBJECT = "取得したデータの確認のお願い / A fetched file needs a check: {title} ({place})"
REVIEW_BODY = """{place_ja}の「{title_ja}」の新しいファイルを公開元から取得しましたが、
自動では公開していません。
理由: {problem_ja}
確認すること: 新しい版の地図で、増えたもの・動いたもの・なくなったものを見てください。
公開元のファイルが正しければ「公開」、誤りなら「公開しない」を押してください
（それまで今のデータがそのまま公開されます）。
{link}

A new file of "{title_en}" for {place_en} was fetched from where it is published,
but not published on its own.
Why: {problem_en}
What to check: the new version's map shows what was added, moved and removed.
If the publisher's file is right, publish it; if it is a mistake, discard it
(what is published stays until then).
{link}
"""
FAILING_SUBJECT = "取得が続けて失敗しています / A source keeps failing: {title} ({place})"
FAILING_BODY = """{place_ja}の「{title_ja}」を公開元から {n} 回続けて取得できませんでした。
公開中のデータはそのままです。
理由: {problem_ja}
確認すること: URLやデータセットIDが変わっていないか、公開元のサイトが開けるか。
直したら取得元を保存し、しばらく止めるなら一時停止してください。
{link}

The last {n} fetches of "{title_en}" for {place_en} failed.
What is published stays as it was.
Why: {problem_en}
What to check: has the URL or the dataset id changed, does the publisher's site open?
Once fixed, save the source; to stop for a while, pause it.
{link}
"""


@dataclass(frozen=True)
class Message:
    """A mail to the municipality's publishers, sent after the notice is committed."""

    to: tuple[str, ...]
    subject: str
    body: str

    def send(self, settings: Settings) -> int:
        """Mail each publisher (a failed mail is logged; the notice stands): how many were sent."""
        return mail_publishers(settings, self.to, self.subject, self.body)


def tell(
    session: Session,
    settings: Settings,
    layer: LayerDefinition,
    dataset: DatasetRow,
    *,
    kind: str,
    problem: tuple[str, str],
    version_id: int | None = None,
    failures: int = 0,
) -> Message:
    """Post the notice (in the caller's transaction); the mail to send once it is committed."""
    code = dataset.municipality_code
    if kind == "harvest_review":  # the newer file is the one to decide on
        notices.close(session, ("harvest_review",), layer.id, code, by=ACTOR)
    writes.insert_row(
        session,
        StaffNoticeRow(
            kind=kind,
            municipality_code=code,
            layer_id=layer.id,
            version_id=version_id,
            actor=ACTOR,
            detail={"problem_ja": problem[0], "problem_en": problem[1], "failures": failures},
        ),
    )
    place = queries.get_municipality(session, code)
    names = (place.name_ja, place.name_en) if place else (code, code)
    words = {
        "title": layer.title.ja,
        "title_ja": layer.title.ja,
        "title_en": layer.title.en,
        "place": names[0],
        "place_ja": names[0],
        "place_en": names[1],
        "problem_ja": problem[0],
        "problem_en": problem[1],
        "n": failures,
        "link": f"{settings.public_base()}/staff/datasets/{layer.id}/{code}/source",
    }
    subject, body = (
        (REVIEW_SUBJECT, REVIEW_BODY)
        if kind == "harvest_review"
        else (FAILING_SUBJECT, FAILING_BODY)
    )
    return Message(
        tuple(u.login for u in notices.publishers_of(session, code)),
        subject.format(**words),
        body.format(**words),
    )


def recovered(session: Session, dataset: DatasetRow, *, by: str) -> None:
    """The source works again, or a person has acted on it: it is no longer failing."""
    notices.close(session, ("harvest_failing",), dataset.layer_id, dataset.municipality_code, by=by)
