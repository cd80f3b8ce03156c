"""The portal as a clerk meets it (issue 25 items 12-18): roles, asking to publish, publishing
that shows what it does, plain words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.settings import Settings
from tests.support.inbox import inbox
from tests.support.portal import account, aed_csv, csrf, sign_in

pytestmark = pytest.mark.db

KISHIWADA, SAKAI, PREFECTURE = "272027", "271403", "270008"
DATASET = f"/staff/datasets/aed/{KISHIWADA}"
GOOD = [("岸和田市役所", "34.4603", "135.3716"), ("岸和田城", "34.4597", "135.3680")]


def browser(session, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def portal(session, test_settings) -> Iterator[TestClient]:
    yield from browser(session, test_settings)


@pytest.fixture
def people(session, test_settings) -> dict[str, str]:
    """An editor, a viewer and two publishers of Kishiwada, a publisher of Sakai."""
    made = {
        "editor": ("editor@city.kishiwada.lg.jp", KISHIWADA, "editor"),
        "viewer": ("viewer@city.kishiwada.lg.jp", KISHIWADA, "viewer"),
        "publisher": ("publisher@city.kishiwada.lg.jp", KISHIWADA, "publisher"),
        "publisher2": ("kouhou@city.kishiwada.lg.jp", KISHIWADA, "publisher"),
        "sakai": ("publisher@city.sakai.lg.jp", SAKAI, "publisher"),
    }
    for login, code, role in made.values():
        account(session, test_settings, login, code, role)
    return {name: login for name, (login, _, _) in made.items()}


def upload(portal: TestClient, data: bytes, **form: str):
    page = portal.get(DATASET)
    return portal.post(
        f"{DATASET}/upload",
        data={"csrf": csrf(page.text), **form},
        files={"file": ("aed.csv", data)},
        follow_redirects=False,
    )


def test_an_editor_asks_to_publish_and_the_publishers_are_told_at_the_top_of_home_and_by_mail(
    session, test_settings, people
):
    public = test_settings.model_copy(update={"public_url": "https://map.example.jp"})
    with inbox(public) as (settings, received):
        for portal in browser(session, settings):
            sign_in(portal, people["editor"])
            staged = upload(portal, aed_csv(GOOD))
            report_url = staged.headers["location"]
            report = portal.get(report_url)
            assert ">公開を依頼<" in report.text and ">公開する<" not in report.text
            asked = portal.post(f"{report_url}/request", data={"csrf": csrf(report.text)})
            assert asked.status_code == 200
            assert "公開担当者 2 人に公開を依頼しました（メール 2 通）" in asked.text
            assert ">公開を依頼<" not in asked.text  # asked once; the page says so
            again = portal.post(f"{report_url}/request", data={"csrf": csrf(report.text)})
            assert "すでに公開を依頼済み" in again.text

            sign_in(portal, people["publisher"])
            home = portal.get("/staff/")
            top = home.text.split('id="requests-h"')[1].split("</section>")[0]
            assert "AED" in top and "版 1" in top and people["editor"] in top
            assert home.text.index('id="requests-h"') < home.text.index(f'id="m-{KISHIWADA}"')
            sign_in(portal, people["sakai"])  # another municipality's publisher is not asked
            assert 'id="requests-h"' not in portal.get("/staff/").text
            sign_in(portal, people["viewer"])
            assert 'id="requests-h"' not in portal.get("/staff/").text

            sign_in(portal, people["publisher"])
            confirm = portal.get(f"{report_url}/publish")
            portal.post(f"{report_url}/publish", data={"csrf": csrf(confirm.text)})
            assert 'id="requests-h"' not in portal.get("/staff/").text  # done once published
    assert sorted(to for to, _ in received) == [[people["publisher2"]], [people["publisher"]]]
    body = received[0][1].get_content()
    assert "版 1" in body and people["editor"] in body
    assert f"https://map.example.jp{report_url}" in body and "testserver" not in body
    actions = session.execute(
        text("SELECT action, actor FROM audit_log WHERE action = 'publish_request'")
    ).all()
    assert actions == [("publish_request", f"staff:{people['editor']}")]


def test_a_viewer_cannot_ask_to_publish(portal, session, people):
    sign_in(portal, people["publisher"])
    report_url = upload(portal, aed_csv(GOOD)).headers["location"]
    sign_in(portal, people["viewer"])
    report = portal.get(report_url)
    assert ">公開を依頼<" not in report.text
    refused = portal.post(f"{report_url}/request", data={"csrf": csrf(report.text)})
    assert refused.status_code == 403


def test_without_publishers_the_editor_is_told_to_ask_for_one(portal, session, test_settings):
    account(session, test_settings, "solo@city.kishiwada.lg.jp", KISHIWADA, "editor")
    sign_in(portal, "solo@city.kishiwada.lg.jp")
    report_url = upload(portal, aed_csv(GOOD)).headers["location"]
    report = portal.get(report_url)
    asked = portal.post(f"{report_url}/request", data={"csrf": csrf(report.text)})
    assert "公開担当者がいません" in asked.text


def test_the_accounts_and_keys_pages_explain_every_role_in_plain_words(
    portal, session, test_settings
):
    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    sign_in(portal, "admin@pref.osaka.lg.jp")
    for page in ("/staff/admin/accounts", "/staff/admin/keys"):
        for lang, words in (
            (
                "ja",
                ["公開を依頼", "自分では公開できません", "当直の職員向け", "APIキーにも同じ意味"],
            ),
            ("en", ["cannot publish", "For duty officers", "same for people and for API keys"]),
        ):
            shown = portal.get(page, params={"lang": lang}).text.split('id="roles-h"')[1]
            assert all(w in shown for w in words), (page, lang)
            for role in ("viewer", "status", "editor", "publisher", "admin"):
                assert f"<code>{role}</code>" in shown


def published_names(session) -> list[str]:
    rows = session.execute(
        text(
            "SELECT properties->>'name' FROM published_feature "
            "WHERE layer_id = 'aed' AND municipality_code = :m ORDER BY 1"
        ),
        {"m": KISHIWADA},
    )
    return list(rows.scalars())


def test_the_publish_confirmation_counts_what_changes_and_names_what_disappears(
    portal, session, people
):
    sign_in(portal, people["publisher"])
    first = upload(portal, aed_csv(GOOD), publish="true")
    assert first.status_code == 303
    moved = ("岸和田市役所", "34.4703", "135.3716")  # ~1.1 km north
    second = upload(portal, aed_csv([moved, ("新しいAED", "34.46", "135.37")]))
    confirm = portal.get(f"{second.headers['location']}/publish")
    changes = confirm.text.split('id="changes-h"')[1].split("</section>")[0]
    assert "公開中の版 1 と比べて" in changes
    for count in ("追加 1 件", "削除 1 件", "変更 1 件", "うち位置の移動 1 件"):
        assert count in changes, count
    assert "岸和田城" in changes.split('class="removed-names"')[1]
    assert 'id="dropped-h"' not in confirm.text and "accept_dropped_rows" not in confirm.text
    english = portal.get(f"{second.headers['location']}/publish", params={"lang": "en"}).text
    assert "1 removed" in english and "of which 1 moved" in english


def test_a_version_without_its_rows_in_error_is_published_only_when_that_is_accepted(
    portal, session, people
):
    sign_in(portal, people["publisher"])
    bad = ("緯度が文字", "abc", "135.37")
    staged = upload(portal, aed_csv([*GOOD, bad]), accept_partial="true")
    report_url = staged.headers["location"]
    confirm = portal.get(f"{report_url}/publish")
    dropped = confirm.text.split('id="dropped-h"')[1].split("</section>")[0]
    assert "1 行" in dropped and ">4<" in dropped and "abc" in dropped  # row 4 as Excel counts
    assert 'name="accept_dropped_rows" value="true" required' in confirm.text
    refused = portal.post(f"{report_url}/publish", data={"csrf": csrf(confirm.text)})
    assert refused.status_code == 409 and "4 行目" in refused.text
    assert published_names(session) == []
    done = portal.post(
        f"{report_url}/publish",
        data={"csrf": csrf(confirm.text), "accept_dropped_rows": "true"},
    )
    assert done.status_code == 200 and "公開しました" in done.text
    assert published_names(session) == ["岸和田城", "岸和田市役所"]


def test_the_audit_log_and_the_fix_log_speak_in_words_and_the_audit_csv_keeps_the_codes(
    portal, session, test_settings, people
):
    sign_in(portal, people["editor"])
    staged = upload(portal, aed_csv([*GOOD, ("位置なしAED", "", "")]), accept_partial="true")
    report = staged.headers["location"]
    page = portal.get(f"{report}/rows/4")
    portal.post(
        f"{report}/rows/4", data={"csrf": csrf(page.text), "lat": "34.4612", "lon": "135.3695"}
    )
    listed = portal.get(report).text
    seen = listed.split('name="seen" value="')[1].split('"')[0]
    placed = portal.post(f"{report}/fixes/apply", data={"csrf": csrf(listed), "seen": seen})
    edits = placed.text.split("手で直した内容")[1]
    assert "位置を指定" in edits and "position" not in edits
    english = portal.get(placed.url, params={"lang": "en"}).text.split("Corrections made by hand")
    assert "position set" in english[1]

    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    sign_in(portal, "admin@pref.osaka.lg.jp")
    keys_page = portal.get("/staff/admin/keys")
    portal.post(
        "/staff/admin/keys",
        data={
            "csrf": csrf(keys_page.text),
            "municipality": KISHIWADA,
            "role": "editor",
            "label": "防災課の連携",
        },
    )
    shown = portal.get("/staff/admin/audit", params={"lang": "ja"}).text.split(
        '<table class="audit cards">'
    )[1]
    for words in (
        "APIキー作成",
        "キーの接頭辞",
        "用途: 防災課の連携",
        "役割: 編集",
        "アップロード",
        "未公開の版として登録",
        "直した内容: 行 4 位置を指定",
        "ログイン",
        "成功",
    ):
        assert words in shown, words
    assert "\\u" not in shown and ">key_create<" not in shown and ">staged<" not in shown
    english = portal.get("/staff/admin/audit", params={"lang": "en"}).text
    assert "API key created" in english and "role: editor" in english
    assert "fixes: Row 4 position set" in english
    exported = portal.get("/staff/admin/audit.csv").content.decode("utf-8")
    assert "key_create" in exported and "staged" in exported  # the CSV keeps the codes


def test_the_audit_log_is_filtered_by_an_action_named_in_words_and_shows_version_numbers(
    portal, session, test_settings, people
):
    sign_in(portal, people["editor"])
    upload(portal, aed_csv(GOOD))
    upload(portal, aed_csv(GOOD[:1]))
    versions = session.execute(
        text(
            "SELECT v.id, v.number FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "WHERE d.layer_id = 'aed' AND d.municipality_code = :code ORDER BY v.number"
        ),
        {"code": KISHIWADA},
    ).all()
    assert [number for _, number in versions] == [1, 2]
    assert any(version_id != number for version_id, number in versions)  # ids are global

    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    sign_in(portal, "admin@pref.osaka.lg.jp")
    page = portal.get(
        "/staff/admin/audit",
        params={"lang": "ja", "action": "upload", "layer": "aed", "municipality": KISHIWADA},
    ).text
    form, table = page.split('<table class="audit cards">')
    assert '<option value="upload" selected>アップロード</option>' in form
    assert '<option value="publish">公開</option>' in form
    body = table.split("<tbody>")[1]
    assert "ログイン" not in body  # filtered to uploads
    shown = [cell.split("<")[0] for cell in body.split('data-label="版">')[1:]]
    assert shown == ["2", "1"]  # newest first, numbered per dataset
