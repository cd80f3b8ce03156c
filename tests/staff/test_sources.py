"""The staff pages of a harvest source (issue 29 item 7): test, save, fetch now, history, pause,
resume, discard, each by the role it needs; the administrator's list of every source.

A loopback CKAN stand-in serves Kishiwada's AED list (``tests/support/file_hosts.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mapsvc.db import harvest, queries
from mapsvc.services.harvest import manage
from mapsvc.settings import HarvestSettings, Settings
from tests.services.test_harvest_runs import aed_csv
from tests.staff.test_clerk import browser
from tests.support.file_hosts import FileHost, Reply, file_host
from tests.support.inbox import inbox
from tests.support.portal import account, csrf, sign_in

pytestmark = pytest.mark.db

KISHIWADA = "272027"
PAGE = f"/staff/datasets/aed/{KISHIWADA}/source"
PUBLISHER, EDITOR, VIEWER = (
    "kacho@city.kishiwada.lg.jp",
    "tanto@city.kishiwada.lg.jp",
    "miru@city.kishiwada.lg.jp",
)


@pytest.fixture
def settings(test_settings: Settings) -> Settings:
    """Loopback hosts allowed (over http), as an admin allows a test catalogue."""
    allowed = HarvestSettings(allow_networks="127.0.0.0/8", allow_http_hosts="127.0.0.1")
    return test_settings.model_copy(update={"harvest": allowed})


@pytest.fixture
def host() -> Iterator[FileHost]:
    with file_host() as running:
        running.file("/files/272027_aed.csv", aed_csv(6))
        running.ckan_dataset(
            "272027-aed",
            [{"name": "AED", "format": "CSV", "url": f"{running.base}/files/272027_aed.csv"}],
            tags=["自治体標準ODS"],
        )
        yield running


@pytest.fixture
def portal(session, settings) -> Iterator[TestClient]:
    for role, login in (("publisher", PUBLISHER), ("editor", EDITOR), ("viewer", VIEWER)):
        account(session, settings, login, KISHIWADA, role)
    yield from browser(session, settings)


def ckan_form(host: FileHost, **changes: str) -> dict[str, str]:
    return {
        "kind": "ckan",
        "url": host.base,
        "reference": "272027-aed",
        "pick_format": "CSV",
        "pick_tag": "自治体標準ODS",
        "schedule": "daily",
        "max_removed_percent": "20",
        "max_move_m": "1000",
    } | changes


def post(portal: TestClient, path: str, data: dict[str, str] | None = None):
    token = csrf(portal.get(PAGE).text)
    return portal.post(path, data={"csrf": token, **(data or {})}, follow_redirects=False)


def test_a_publisher_tests_saves_and_fetches_a_ckan_source_and_reads_its_history(
    portal, session, host
):
    sign_in(portal, PUBLISHER)
    empty = portal.get(PAGE)
    assert ">取得元を設定<" in empty.text and "この取得元を試す" in empty.text

    tested = post(portal, f"{PAGE}/test", ckan_form(host))
    assert tested.status_code == 200
    assert "試した結果（まだ保存していません）" in tested.text
    assert f"{host.base}/files/272027_aed.csv から" in tested.text
    assert 'value="272027-aed"' in tested.text  # the form keeps what was typed
    assert harvest.list_sources(session) == []  # a dry run saves nothing

    saved = post(portal, PAGE, ckan_form(host))
    assert (saved.status_code, saved.headers["location"]) == (303, f"{PAGE}?done=saved")
    fetched = post(portal, f"{PAGE}/run")
    page = portal.get(fetched.headers["location"])
    assert "取得しました" in page.text and "問題なく取得できています" in page.text
    view = manage.show_source(session, "aed", KISHIWADA)
    line = view["history"][0]
    assert line["outcome"] == "published"
    assert f'versions/{line["version_id"]}"' in page.text  # the version it made, linked
    assert ">公開した<" in page.text and f'title="{line["sha256"]}"' in page.text
    assert f"{line['bytes']:,}" in page.text and ">200<" in page.text

    english = portal.get(f"{PAGE}?lang=en")
    assert ">published<" in english.text and "Fetching works." in english.text
    portal.get(f"{PAGE}?lang=ja")

    assert "取得元（自動取り込み）" in portal.get(f"/staff/datasets/aed/{KISHIWADA}").text
    paused = portal.get(post(portal, f"{PAGE}/pause").headers["location"])
    assert "一時停止しました" in paused.text and ">再開<" in paused.text
    assert manage.show_source(session, "aed", KISHIWADA)["paused"] is True
    post(portal, f"{PAGE}/resume")
    assert manage.show_source(session, "aed", KISHIWADA)["paused"] is False


def test_what_each_role_may_do_on_a_source(portal, session, host):
    sign_in(portal, PUBLISHER)
    post(portal, PAGE, ckan_form(host))

    sign_in(portal, EDITOR)
    page = portal.get(PAGE)
    assert "この取得元を試す" in page.text and "保存は公開担当者ができます" in page.text
    assert ">今すぐ取得<" not in page.text
    assert post(portal, PAGE, ckan_form(host)).status_code == 403
    assert post(portal, f"{PAGE}/run").status_code == 403
    assert post(portal, f"{PAGE}/pause").status_code == 303  # stopping is an editor's right
    assert post(portal, f"{PAGE}/resume").status_code == 403

    sign_in(portal, VIEWER)
    seen = portal.get(PAGE)
    assert seen.status_code == 200 and "この取得元を試す" not in seen.text
    assert post(portal, f"{PAGE}/test", ckan_form(host)).status_code == 403
    assert post(portal, f"{PAGE}/pause").status_code == 403


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"url": "ftp://example.jp/aed.csv"}, "https:// で始まるURLを指定してください"),
        ({"reference": ""}, "CKANのデータセットID、またはBODIK APIのAPI名を指定してください"),
        ({"schedule": "every day"}, "取得の予定「every day」を読めません"),
        ({"max_removed_percent": "二割"}, "削除の上限は数で書いてください"),
        ({"max_move_m": "inf"}, "移動の上限は数で書いてください"),
        ({"reference": "no-such-dataset"}, "CKANにデータセット「no-such-dataset」がありません"),
    ],
    ids=["scheme", "no-dataset-id", "schedule", "percent", "distance", "unknown-dataset"],
)
def test_a_source_that_cannot_work_is_explained_and_the_form_kept(
    portal, session, host, changes, expected
):
    sign_in(portal, PUBLISHER)
    for path in (f"{PAGE}/test", PAGE):
        answer = post(portal, path, ckan_form(host, **changes))
        if changes.get("reference") == "no-such-dataset" and path == PAGE:
            continue  # saving does not fetch: the first run will say it
        assert answer.status_code == 400, path
        assert expected in answer.text, re.findall(r'role="alert">([^<]*)', answer.text)
        assert 'value="自治体標準ODS"' in answer.text
    english = post(portal, f"{PAGE}/test?lang=en", ckan_form(host, max_move_m="inf"))
    assert "The distance moved: not a number" in english.text


def test_a_file_that_cannot_be_read_shows_its_report_before_anything_is_saved(
    portal, session, host
):
    host.file("/files/272027_aed.csv", b"\xff\xfe nothing to read")
    sign_in(portal, PUBLISHER)
    tested = post(portal, f"{PAGE}/test", ckan_form(host, encoding="utf-8"))
    assert tested.status_code == 200
    assert "この設定では読み込めません" in tested.text
    assert '<option value="utf-8" selected>' in tested.text
    assert harvest.list_sources(session) == []


def test_a_waiting_version_is_published_or_discarded_by_a_person(portal, session, host):
    sign_in(portal, PUBLISHER)
    post(portal, PAGE, ckan_form(host))
    post(portal, f"{PAGE}/run")
    host.file("/files/272027_aed.csv", aed_csv(2))  # four of six disappear: a person decides
    post(portal, f"{PAGE}/run")
    page = portal.get(PAGE)
    waiting = manage.show_source(session, "aed", KISHIWADA)["waiting_version_id"]
    assert waiting is not None
    assert "自動では公開していません" in page.text
    assert "公開中の 6 件のうち 4 件がなくなります" in page.text
    assert f'href="/staff/datasets/aed/{KISHIWADA}/versions/{waiting}">確認して公開' in page.text

    discarded = portal.get(post(portal, f"{PAGE}/discard").headers["location"])
    assert "取得したファイルは公開しません" in discarded.text
    view = manage.show_source(session, "aed", KISHIWADA)
    assert (view["needs_person"], view["problem"], view["waiting_version_id"]) == (
        False,
        None,
        None,
    )
    assert queries.get_version(session, waiting).status == "staged"  # kept, never published
    assert post(portal, f"{PAGE}/discard").status_code == 409  # nothing waits any more


def test_the_administrator_sees_every_source_the_failing_first(portal, session, settings, host):
    admin = "admin@pref.osaka.lg.jp"
    account(session, settings, admin, "270008", "admin")
    sign_in(portal, PUBLISHER)
    post(portal, PAGE, ckan_form(host))
    sakai = "/staff/datasets/aed/271403/source"
    sign_in(portal, admin)
    token = csrf(portal.get(sakai).text)
    broken = ckan_form(host, reference="gone")
    portal.post(sakai, data={"csrf": token, **broken})
    for _ in range(3):
        portal.post(f"{sakai}/run", data={"csrf": token})
    listing = portal.get("/staff/admin/sources")
    assert listing.status_code == 200
    assert listing.text.index("堺市") < listing.text.index("岸和田市")  # failing first
    assert "失敗が続いています (3)" in listing.text
    assert "CKANにデータセット「gone」がありません" in listing.text
    assert ">取得元<" in listing.text  # in the administrator's menu

    sign_in(portal, PUBLISHER)
    assert portal.get("/staff/admin/sources").status_code == 403


def home_notices(portal: TestClient) -> str:
    """The notices at the top of the home page ("" when there are none)."""
    home = portal.get("/staff/").text
    return home.split('id="requests-h"')[1].split("</section>")[0] if "requests-h" in home else ""


def test_a_file_that_waits_tells_the_publishers_in_plain_words_and_publishing_answers_it(
    session, settings, host
):
    account(session, settings, PUBLISHER, KISHIWADA, "publisher")
    with inbox(settings) as (mailing, received):
        for portal in browser(session, mailing):
            sign_in(portal, PUBLISHER)
            post(portal, PAGE, ckan_form(host))
            post(portal, f"{PAGE}/run")
            assert home_notices(portal) == "" and received == []  # published on its own

            host.file("/files/272027_aed.csv", aed_csv(2))
            post(portal, f"{PAGE}/run")
            waiting = manage.show_source(session, "aed", KISHIWADA)["waiting_version_id"]
            top = home_notices(portal)
            assert "取得した新しいファイルが確認を待っています" in top
            assert "公開中の 6 件のうち 4 件がなくなります" in top  # what changed
            assert "確認すること" in top  # what to check
            assert f'/versions/{waiting}">確認して公開' in top
            assert 'action="/staff/datasets/aed/272027/source/discard"' in top

            [(to, mail)] = received
            assert to == [PUBLISHER]
            assert "A fetched file needs a check" in mail["Subject"]
            body = mail.get_content()
            assert "4 of the 6 published features would disappear" in body
            assert f"{mailing.public_base()}{PAGE}" in body and "What to check" in body

            confirm = portal.get(f"/staff/datasets/aed/{KISHIWADA}/versions/{waiting}/publish")
            portal.post(
                f"/staff/datasets/aed/{KISHIWADA}/versions/{waiting}/publish",
                data={"csrf": csrf(confirm.text)},
            )
            assert home_notices(portal) == ""  # a person decided: the notice is done
            assert manage.show_source(session, "aed", KISHIWADA)["needs_person"] is False


def test_discarding_from_the_home_page_ends_the_notice(portal, session, host):
    sign_in(portal, PUBLISHER)
    post(portal, PAGE, ckan_form(host))
    post(portal, f"{PAGE}/run")
    host.file("/files/272027_aed.csv", aed_csv(1))
    post(portal, f"{PAGE}/run")
    assert "取得した新しいファイルが確認を待っています" in home_notices(portal)
    post(portal, f"{PAGE}/discard")
    assert home_notices(portal) == ""


def test_three_failures_in_a_row_tell_the_publishers_once_until_the_source_works_again(
    session, settings, host
):
    account(session, settings, PUBLISHER, KISHIWADA, "publisher")
    host.plain("/files/272027_aed.csv", Reply(500, b"down"))
    with inbox(settings) as (mailing, received):
        for portal in browser(session, mailing):
            sign_in(portal, PUBLISHER)
            post(portal, PAGE, ckan_form(host))
            for _ in range(2):
                post(portal, f"{PAGE}/run")
            assert home_notices(portal) == "" and received == []  # two may be a hiccup
            post(portal, f"{PAGE}/run")
            top = home_notices(portal)
            assert "取得が続けて失敗しています" in top
            assert "公開元のサーバーがエラー（HTTP 500）を返しました" in top
            assert "URLやデータセットIDが変わっていないか" in top
            page = portal.get(PAGE).text
            assert "3 回続けて取得に失敗しています" in page
            post(portal, f"{PAGE}/run")  # a fourth failure: no second mail
            [(to, mail)] = received
            assert to == [PUBLISHER] and "A source keeps failing" in mail["Subject"]
            assert "The last 3 fetches" in mail.get_content()

            host.file("/files/272027_aed.csv", aed_csv(3))
            post(portal, f"{PAGE}/run")
            assert home_notices(portal) == ""
            assert manage.show_source(session, "aed", KISHIWADA)["flagged"] is False
