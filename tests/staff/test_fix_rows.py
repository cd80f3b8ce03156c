"""Fixing rows as a clerk does (issue #25 item 14): the row's name and address, a swap for a
swapped pair, the column from a list, the town placement on the spot, and several rows' fixes
queued, listed, removable and applied together as one version with one audit entry."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from tests.support.portal import account, aed_csv, csrf, sign_in

pytestmark = pytest.mark.db

KISHIWADA = "272027"
EDITOR = "tanto@city.kishiwada.lg.jp"
GOOD = [("岸和田市役所AED", "34.4603", "135.3716"), ("岸和田城AED", "34.4597", "135.3680")]
# Rows 4-6 of the file: no position, latitude and longitude swapped, a name to correct.
TROUBLE = [
    ("位置なしAED", "", ""),
    ("入れ替わりAED", "135.3700", "34.4610"),
    ("名前違い", "34.4610", "135.3720"),
]


@pytest.fixture
def portal(session, test_settings) -> Iterator[TestClient]:
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    account(session, test_settings, EDITOR, KISHIWADA, "editor")
    with TestClient(app, base_url="https://testserver") as browser:
        sign_in(browser, EDITOR)
        yield browser


def staged(portal: TestClient, rows=None) -> str:
    """A staged version of GOOD + TROUBLE (or ``rows``); its report's path."""
    page = portal.get(f"/staff/datasets/aed/{KISHIWADA}")
    done = portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/upload",
        data={"csrf": csrf(page.text), "accept_partial": "true"},
        files={"file": ("aed.csv", aed_csv(rows or [*GOOD, *TROUBLE]))},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return done.headers["location"]


def queue(portal: TestClient, report: str, row: int, lang: str = "ja", **form: str):
    page = portal.get(f"{report}/rows/{row}")
    assert page.status_code == 200, page.text
    return portal.post(
        f"{report}/rows/{row}",
        params={"lang": lang},
        data={"csrf": csrf(page.text), **form},
        follow_redirects=False,
    )


def apply(portal: TestClient, report: str, seen: str | None = None, lang: str = "ja"):
    page = portal.get(report)
    assert "まとめて直す内容" in page.text
    newest = page.text.split('name="seen" value="')[1].split('"')[0]
    return portal.post(
        f"{report}/fixes/apply",
        params={"lang": lang},
        data={"csrf": csrf(page.text), "seen": seen or newest},
        follow_redirects=False,
    )


def version_count(session) -> int:
    return session.execute(text("SELECT count(*) FROM version")).scalar_one()


def features(session, version_path: str) -> dict[str, tuple[float, float]]:
    rows = session.execute(
        text(
            "SELECT properties->>'name', ST_X(geom), ST_Y(geom) FROM feature WHERE version_id = :v"
        ),
        {"v": int(version_path.split("?")[0].rsplit("/", 1)[1])},
    )
    return {name: (round(x, 4), round(y, 4)) for name, x, y in rows}


def test_the_fix_page_shows_the_rows_name_and_address_and_lists_the_files_columns(portal):
    report = staged(portal)
    page = portal.get(f"{report}/rows/6")
    shown = html.unescape(page.text)
    assert page.status_code == 200
    assert "名前違い" in shown and "岸和田市岸城町7-1" in shown  # the row's name and address
    picker = shown.split('<select id="column" name="column">')[1].split("</select>")[0]
    options = [part.split('"')[0] for part in picker.split('<option value="')[2:]]
    assert options == [
        "名称",
        "住所",
    ]  # the file's columns (its coordinates are fixed as a position)
    assert '<input id="column"' not in page.text  # nothing to type
    assert "緯度と経度を入れ替える" not in shown  # the row's pair is not swapped
    missing = portal.get(f"{report}/rows/9")
    assert missing.status_code == 404 and "9 行目はありません" in missing.text


def test_a_swapped_pair_is_offered_the_swap_and_swapping_places_the_row(portal, session):
    report = staged(portal)
    page = html.unescape(portal.get(f"{report}/rows/5").text)
    assert "緯度と経度を入れ替える" in page and "緯度 34.461、経度 135.37" in page
    assert queue(portal, report, 5, swap="true").status_code == 303
    listed = html.unescape(portal.get(report).text)
    assert "5: 緯度と経度を入れ替え 34.461, 135.37" in " ".join(listed.split())
    done = apply(portal, report)
    assert done.status_code == 303
    assert features(session, done.headers["location"])["入れ替わりAED"] == (135.37, 34.461)
    refused = queue(portal, report, 6, swap="true")  # a pair that is not swapped: nothing to swap
    assert refused.status_code == 400 and "入れ替えても" in refused.text


def test_fixes_of_several_rows_are_listed_removable_and_applied_as_one_version_and_one_entry(
    portal, session
):
    report = staged(portal)
    before = version_count(session)
    queue(portal, report, 4, lat="34.4612", lon="135.3695")
    queue(portal, report, 6, column="名称", value="岸和田市立図書館AED")
    queue(portal, report, 2, drop="true")
    queue(portal, report, 5, drop="true")  # a slip, taken back below
    assert version_count(session) == before  # queueing reads nothing again and stores nothing
    page = portal.get(report)
    listed = " ".join(html.unescape(page.text).split())
    for words in (
        "4: 位置を指定 34.4612, 135.3695",
        "6: セルの値を修正 名称 → 「岸和田市立図書館AED」",
        "2: 行を除外",
        "5: 行を除外",
        "まとめて直す（4 件）",
    ):
        assert words in listed
    removed = portal.post(f"{report}/fixes/remove", data={"csrf": csrf(page.text), "index": "3"})
    assert "5: 行を除外" not in " ".join(html.unescape(removed.text).split())
    done = apply(portal, report)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=revised")
    assert version_count(session) == before + 1  # one version for all the fixes
    placed = features(session, done.headers["location"])
    assert placed["位置なしAED"] == (135.3695, 34.4612)
    assert "岸和田市立図書館AED" in placed and "岸和田市役所AED" not in placed
    entries = (
        session.execute(
            text(
                "SELECT detail FROM audit_log WHERE action = 'upload' AND result = 'staged' "
                "AND actor = :me ORDER BY id DESC"
            ),
            {"me": f"staff:{EDITOR}"},
        )
        .scalars()
        .all()
    )
    assert len(entries) == 2  # the upload, then one entry for the fixes
    assert entries[0]["revised_from"] == int(report.rsplit("/", 1)[1])
    assert [(f["row"], sorted(f)) for f in entries[0]["fixes"]] == [
        (4, ["position", "row"]),
        (6, ["column", "row", "value"]),
        (2, ["drop", "row"]),
    ]
    after = portal.get(done.headers["location"])
    assert "まとめて直す内容" not in after.text  # the list is gone once applied
    assert "まとめて直す内容" not in portal.get(report).text


def test_a_row_without_coordinates_is_offered_its_town_on_the_fix_page(portal, session):
    report = staged(portal)
    page = html.unescape(portal.get(f"{report}/rows/4").text)
    assert "住所の町の代表点に置く" in page and "「岸城町」にあります" in page
    assert "<details" not in page.split("住所の町の代表点に置く")[0]  # in sight, not folded away
    queue(portal, report, 4, town_positions="true")
    done = apply(portal, report)
    assert done.status_code == 303
    assert "位置なしAED" in features(session, done.headers["location"])
    revised = html.unescape(portal.get(done.headers["location"]).text)
    assert "「岸城町」の代表点です（おおよその位置）" in revised  # said to be approximate
    placed_page = html.unescape(portal.get(f"{report}/rows/6").text)
    assert "住所の町の代表点に置く" not in placed_page  # a row with coordinates: not offered


def test_a_fix_that_does_not_parse_is_refused_in_both_languages_and_changes_nothing(
    portal, session
):
    report = staged(portal)
    bad = queue(portal, report, 4, lat="北緯", lon="135.37")
    assert bad.status_code == 400 and "緯度・経度が正しくありません" in bad.text
    assert "mapsvc_fixes" not in bad.headers.get("set-cookie", "")
    english = queue(portal, report, 4, lang="en", lat="北緯", lon="135.37")
    assert english.status_code == 400 and "Not a valid latitude/longitude" in english.text
    swapped = queue(portal, report, 4, lat="135.3695", lon="34.4612")
    assert swapped.status_code == 400
    unknown = queue(portal, report, 6, column="施設の色", value="赤")
    assert unknown.status_code == 400 and "施設の色" in html.unescape(unknown.text)
    assert "まとめて直す内容" not in portal.get(report).text  # nothing was queued
    # A fix that leaves its row wrong (a new name for a row that has no position):
    before = version_count(session)
    queue(portal, report, 4, column="名称", value="位置はまだ無いAED")
    still = apply(portal, report)
    assert still.status_code == 400 and "直した行にまだ誤りがあります" in still.text
    assert "4 行目: 緯度・経度がありません" in html.unescape(still.text)
    assert version_count(session) == before
    assert "まとめて直す内容" in portal.get(report).text  # kept, to be corrected


def test_a_forged_queue_cookie_is_an_empty_queue_not_a_500(portal, session):
    # The queue lives in a cookie anyone can write: a column that is not a text (here an
    # object) must not reach the importer, whose edits are keyed by it.
    report = staged(portal)
    page_path = report.split("?")[0]
    forged = {"fixes": [{"row": 4, "column": {"名称": 1}, "value": "x"}], "town_positions": False}
    domain = next(iter(portal.cookies.jar)).domain
    portal.cookies.set(
        "mapsvc_fixes",
        base64.urlsafe_b64encode(orjson.dumps(forged)).decode(),
        domain=domain,
        path=page_path,
    )
    page = portal.get(report)
    assert page.status_code == 200 and "まとめて直す内容" not in page.text
    before = version_count(session)
    refused = portal.post(f"{page_path}/fixes/apply", data={"csrf": csrf(page.text), "seen": "1"})
    assert refused.status_code in (400, 409), refused.text
    assert version_count(session) == before


def test_fixes_on_a_stale_page_are_refused_after_someone_else_made_a_version(portal, session):
    report = staged(portal)
    queue(portal, report, 2, drop="true")
    page = portal.get(report)
    seen = page.text.split('name="seen" value="')[1].split('"')[0]
    staged(portal, [*GOOD, ("別の人のAED", "34.4611", "135.3711")])  # someone else's new version
    before = version_count(session)
    stale = apply(portal, report, seen=seen)
    assert stale.status_code == 409 and "新しい版（版 2）が作られました" in stale.text
    english = apply(portal, report, seen=seen, lang="en")
    assert english.status_code == 409 and "A newer version (version 2) was made" in english.text
    assert version_count(session) == before


def test_applying_fixes_waits_for_an_upload_slot_like_any_upload(session, test_settings):
    one = test_settings.imports.model_copy(update={"concurrent_uploads": 1, "upload_wait_s": 0.2})
    app = create_app(test_settings.model_copy(update={"imports": one}))
    app.dependency_overrides[get_session] = lambda: session
    account(session, test_settings, EDITOR, KISHIWADA, "editor")
    with TestClient(app, base_url="https://testserver") as browser:
        sign_in(browser, EDITOR)
        report = staged(browser)
        queue(browser, report, 4, lat="34.4612", lon="135.3695")
        with app.state.upload_slots.held():  # another clerk's large file is being read
            busy = apply(browser, report)
        assert busy.status_code == 503 and "Retry-After" in busy.headers
        assert apply(browser, report).status_code == 303
