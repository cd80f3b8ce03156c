"""The staff portal through HTTP as a browser uses it: accounts, sessions, roles, the journey."""

from __future__ import annotations

import html
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.services import accounts
from tests.support.inbox import inbox
from tests.support.portal import PASSWORD, account, aed_csv, csrf, sign_in

pytestmark = pytest.mark.db

KISHIWADA, SAKAI, PREFECTURE = "272027", "271403", "270008"
GOOD = [("岸和田市役所", "34.4603", "135.3716"), ("岸和田城", "34.4597", "135.3680")]
BAD_ROW = ("緯度が文字", "abc", "135.37")


@pytest.fixture
def portal(session, test_settings) -> Iterator[TestClient]:
    """A browser on https (the session cookie is Secure there) against the in-process app."""
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as browser:
        yield browser


@pytest.fixture
def editor(session, test_settings) -> str:
    account(session, test_settings, "editor@city.kishiwada.lg.jp", KISHIWADA, "editor")
    return "editor@city.kishiwada.lg.jp"


@pytest.fixture
def publisher(session, test_settings) -> str:
    account(session, test_settings, "publisher@city.kishiwada.lg.jp", KISHIWADA, "publisher")
    return "publisher@city.kishiwada.lg.jp"


def with_cookie(portal: TestClient, token: str) -> None:
    """The browser holds exactly this session cookie."""
    portal.cookies.clear()
    portal.cookies.set("mapsvc_staff", token)


def upload(portal: TestClient, data: bytes, name: str = "aed.csv", **form: str):
    page = portal.get(f"/staff/datasets/aed/{KISHIWADA}")
    assert page.status_code == 200, page.text
    return portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/upload",
        data={"csrf": csrf(page.text), **form},
        files={"file": (name, data)},
        follow_redirects=False,
    )


def test_an_invitation_sets_a_password_once_then_sign_in_opens_my_datasets(
    portal, session, test_settings
):
    token = accounts.invite(
        session,
        test_settings,
        login="Staff@Vill.Chihayaakasaka.lg.jp",
        display_name="千早赤阪村 総務課",
        roles={"273830": "editor"},
        actor="test",
        link_for=lambda token: token,  # the token alone
    ).link
    page = portal.get(f"/staff/setup/{token}")
    assert page.status_code == 200 and "千早赤阪村 総務課" in page.text
    short = portal.post(f"/staff/setup/{token}", data={"password": "short", "again": "short"})
    assert short.status_code == 400 and "12文字以上" in short.text
    done = portal.post(f"/staff/setup/{token}", data={"password": PASSWORD, "again": PASSWORD})
    assert done.status_code == 200 and "パスワードを設定しました" in done.text
    again = portal.get(f"/staff/setup/{token}")
    assert again.status_code == 404 and "使用済みか期限切れ" in again.text  # one time only

    signed = sign_in(portal, "staff@vill.chihayaakasaka.lg.jp")  # logins ignore case
    assert signed.status_code == 303 and signed.headers["location"] == "/staff/"
    cookie = signed.headers["set-cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/staff"):
        assert flag.lower() in cookie.lower(), cookie
    home = portal.get("/staff/")
    assert home.status_code == 200 and "千早赤阪村" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "データ未公開" in home.text  # the village's gaps are pointed out, not hidden
    english = portal.get("/staff/?lang=en")
    assert "No data published" in english.text and "My datasets" in english.text


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password12", "12文字以上"),
        ("1234567890", "12文字以上"),
        (" " * 12, "繰り返しや"),
        ("aaaaaaaaaa", "12文字以上"),
        ("a" * 14, "繰り返しや"),
        ("123456789012", "繰り返しや"),
        ("q1w2e3r4t5y6", "よく使われる"),
        ("Password1234", "よく使われる"),
    ],
)
def test_short_repeated_and_common_passwords_are_refused_with_the_reason(
    portal, session, test_settings, password, why
):
    token = accounts.invite(
        session,
        test_settings,
        login="weak@city.kishiwada.lg.jp",
        display_name="weak",
        roles={KISHIWADA: "editor"},
        actor="test",
        link_for=lambda token: token,  # the token alone
    ).link
    refused = portal.post(f"/staff/setup/{token}", data={"password": password, "again": password})
    assert refused.status_code == 400 and why in refused.text
    assert portal.get(f"/staff/setup/{token}").status_code == 200  # the link is not spent


def test_wrong_passwords_are_refused_then_throttled_and_audited(portal, session, editor):
    wrong = sign_in(portal, editor, "not-the-password")
    assert wrong.status_code == 401 and "パスワードが違います" in wrong.text
    for _ in range(4):
        sign_in(portal, editor, "not-the-password")
    throttled = sign_in(portal, editor)  # the right password, but too many failures first
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    failed = session.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'login' AND result = 'failed' "
            "AND actor = :a"
        ),
        {"a": f"staff:{editor}"},
    ).scalar_one()
    assert failed == 5


def test_sign_in_without_the_forms_token_is_refused(portal, editor):
    refused = portal.post(
        "/staff/login",
        data={"login": editor, "password": PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "mapsvc_staff" not in refused.headers.get(
        "set-cookie", ""
    )


def test_a_session_is_new_at_each_sign_in_and_ends_at_sign_out_or_when_idle(
    portal, session, editor
):
    with_cookie(portal, "chosen-by-an-attacker")
    assert portal.get("/staff/", follow_redirects=False).status_code == 303  # never accepted
    first = sign_in(portal, editor).cookies["mapsvc_staff"]
    second = sign_in(portal, editor).cookies["mapsvc_staff"]
    assert first != second and "chosen-by-an-attacker" not in (first, second)
    with_cookie(portal, first)
    assert portal.get("/staff/", follow_redirects=False).status_code == 303  # rotated away
    with_cookie(portal, second)
    home = portal.get("/staff/")
    assert home.status_code == 200
    out = portal.post("/staff/logout", data={"csrf": csrf(home.text)})
    assert out.status_code == 200 and "ログアウトしました" in out.text
    with_cookie(portal, second)
    assert portal.get("/staff/", follow_redirects=False).status_code == 303

    third = sign_in(portal, editor).cookies["mapsvc_staff"]
    session.execute(text("UPDATE staff_session SET last_seen_at = now() - interval '31 minutes'"))
    with_cookie(portal, third)
    idle = portal.get("/staff/", follow_redirects=False)
    assert idle.status_code == 303 and idle.headers["location"].startswith("/staff/login")


def published_names(session) -> list[str]:
    return list(
        session.execute(
            text(
                "SELECT properties->>'name' FROM published_feature WHERE layer_id = 'aed' "
                "AND municipality_code = :m ORDER BY 1"
            ),
            {"m": KISHIWADA},
        ).scalars()
    )


def test_an_editor_cannot_publish_by_uploading_with_publish_not_even_a_retired_versions_file(
    portal, session, editor, publisher
):
    sign_in(portal, publisher)
    first = upload(portal, aed_csv(GOOD[:1]), publish="true")  # a publisher may, in one step
    assert first.status_code == 303 and published_names(session) == ["岸和田市役所"]
    second = upload(portal, aed_csv(GOOD), publish="true")
    assert second.status_code == 303 and published_names(session) == ["岸和田城", "岸和田市役所"]

    sign_in(portal, editor)
    versions_before = session.execute(text("SELECT count(*) FROM version")).scalar_one()
    for data in (aed_csv([("新しいAED", "34.46", "135.37")]), aed_csv(GOOD[:1])):  # new; retired
        refused = upload(portal, data, publish="true")
        assert refused.status_code == 403 and "権限がありません" in refused.text
    assert published_names(session) == ["岸和田城", "岸和田市役所"]  # nothing changed
    assert session.execute(text("SELECT count(*) FROM version")).scalar_one() == versions_before
    staged = upload(portal, aed_csv([("新しいAED", "34.46", "135.37")]))  # without: staged
    assert staged.status_code == 303 and published_names(session) == ["岸和田城", "岸和田市役所"]


def test_an_editor_uploads_reads_the_report_and_a_publisher_publishes_and_rolls_back(
    portal, session, test_settings, editor, publisher
):
    sign_in(portal, editor)
    rejected = upload(portal, aed_csv([*GOOD, BAD_ROW]))
    assert rejected.status_code == 422
    assert "受け付けられませんでした" in rejected.text and "緯度" in rejected.text
    staged = upload(portal, aed_csv([*GOOD, BAD_ROW]), accept_partial="true")
    assert staged.status_code == 303, staged.text
    report_url = staged.headers["location"]
    report = portal.get(report_url)
    assert "誤りのある行" in report.text and "緯度が文字" not in report.text  # not accepted
    assert ">4<" in report.text  # the row as Excel numbers it (header is row 1)
    errors_only = portal.get(report_url, params={"show": "errors"})
    assert "誤り" in errors_only.text and 'class="warning"' not in errors_only.text
    by_kind = portal.get(report_url, params={"sort": "kind"}).text
    assert by_kind.index('<tr class="error">') < by_kind.index('<tr class="warning">')
    assert 'aria-sort="ascending"><a href="?show=all&amp;sort=kind"' in by_kind
    sheet = portal.get(f"{report_url}/report.csv")
    assert sheet.content.startswith("\ufeff".encode()) and "abc" in sheet.content.decode("utf-8")
    mapped = portal.get(f"{report_url}/map")
    assert mapped.status_code == 200 and 'id="version-map"' in mapped.text
    assert ">公開する<" not in report.text  # an editor cannot publish: no button…
    version_id = int(report_url.rsplit("/", 1)[1])
    no = portal.post(f"{report_url}/publish", data={"csrf": csrf(report.text)})
    assert no.status_code == 403  # …and no route either
    assert "権限がありません" in no.text

    sign_in(portal, publisher)
    confirm = portal.get(f"{report_url}/publish")
    assert "公開地図にすぐ表示されます" in confirm.text
    forged = portal.post(f"{report_url}/publish", data={"csrf": "wrong"})
    assert forged.status_code == 403
    public = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA})
    assert "岸和田城" not in public.text  # nothing changed by the forged request
    done = portal.post(
        f"{report_url}/publish", data={"csrf": csrf(confirm.text), "accept_dropped_rows": "true"}
    )
    assert done.status_code == 200 and "公開しました" in done.text
    public = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA})
    assert "岸和田城" in public.text
    actor = session.execute(
        text("SELECT actor FROM audit_log WHERE action = 'publish' AND version_id = :v"),
        {"v": version_id},
    ).scalar_one()
    assert actor == f"staff:{publisher}"

    home = portal.get("/staff/")
    assert f"staff:{publisher}" in home.text  # who published, on "my datasets"
    second = upload(portal, aed_csv(GOOD[:1]))  # a publisher uploads too
    assert second.status_code == 303
    against = portal.get(f"{second.headers['location']}/map")
    assert (
        "公開中の版" in against.text and "岸和田城" in against.text.split('class="diff removed"')[1]
    )
    drawn = portal.get(f"{second.headers['location']}/map.geojson").json()["features"]
    assert sorted(f["properties"]["status"] for f in drawn) == ["removed", "same"]
    ask = portal.get(f"{second.headers['location']}/publish")
    portal.post(f"{second.headers['location']}/publish", data={"csrf": csrf(ask.text)})
    public = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA})
    assert "岸和田城" not in public.text
    ask = portal.get(f"{report_url}/rollback")
    assert "戻します" in ask.text
    rolled = portal.post(f"{report_url}/rollback", data={"csrf": csrf(ask.text)})
    assert rolled.status_code == 200 and "に戻しました" in rolled.text
    public = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA})
    assert "岸和田城" in public.text


def test_versions_are_numbered_within_their_dataset_where_people_read_them(
    portal, session, editor, publisher
):
    """岸和田市's first upload is 版 1, whatever the global id (the demo made many versions)."""
    from mapsvc.services import datasets

    sign_in(portal, editor)
    before = session.execute(
        text(
            "SELECT count(*) FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "WHERE d.layer_id = 'aed' AND d.municipality_code = :code"
        ),
        {"code": KISHIWADA},
    ).scalar_one()
    first, second = upload(portal, aed_csv(GOOD)), upload(portal, aed_csv(GOOD[:1]))
    urls = [answer.headers["location"] for answer in (first, second)]
    ids = [int(url.rsplit("/", 1)[1]) for url in urls]
    numbers = [before + 1, before + 2]
    assert ids[0] > numbers[0]  # the global id is not what people read
    report = portal.get(urls[0]).text
    assert f"版 {numbers[0]} <small>" in report and f"版 {ids[0]} " not in report
    listed = portal.get(f"/staff/datasets/aed/{KISHIWADA}").text
    assert f'/versions/{ids[1]}">版 {numbers[1]}</a>' in listed  # linked by id, read by number
    found = datasets.version(session, "aed", KISHIWADA, version_id=ids[1])
    assert found.as_json()["id"] == ids[1]  # the API's identifier, as before
    assert found.as_json()["number"] == numbers[1]  # beside it, for people

    sign_in(portal, publisher)
    ask = portal.get(f"{urls[0]}/publish")
    portal.post(f"{urls[0]}/publish", data={"csrf": csrf(ask.text)})
    assert f"公開中の版 {numbers[0]} との違い" in portal.get(f"{urls[1]}/map").text
    assert f"版 {numbers[0]}" in portal.get("/staff/").text  # "my datasets"
    ask = portal.get(f"{urls[1]}/publish")
    portal.post(f"{urls[1]}/publish", data={"csrf": csrf(ask.text)})
    ask = portal.get(f"{urls[0]}/rollback")
    assert f"版 {numbers[0]}（" in ask.text
    rolled = portal.post(f"{urls[0]}/rollback", data={"csrf": csrf(ask.text)})
    assert f"版 {numbers[0]} に戻しました" in rolled.text


def test_another_municipalitys_dataset_is_403_on_every_route(portal, session, editor):
    sign_in(portal, editor)
    home = portal.get("/staff/")
    token = csrf(home.text)
    base = f"/staff/datasets/aed/{SAKAI}"
    version = session.execute(
        text(
            "SELECT v.id FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "WHERE d.municipality_code = :c LIMIT 1"
        ),
        {"c": SAKAI},
    ).scalar_one()
    sakai_version = f"/staff/datasets/evacuation_sites/{SAKAI}/versions/{version}"
    for method, url in (
        ("GET", base),
        ("GET", sakai_version),
        ("GET", f"{sakai_version}/report.csv"),
        ("GET", f"{sakai_version}/map"),
        ("GET", f"{sakai_version}/map.geojson"),
        ("GET", f"{sakai_version}/original"),
        ("GET", f"{sakai_version}/publish"),
        ("GET", f"{sakai_version}/rows/2"),
        ("POST", f"{sakai_version}/rows/2"),
        ("POST", f"{sakai_version}/fixes/remove"),
        ("POST", f"{sakai_version}/fixes/apply"),
        ("POST", f"/staff/datasets/evacuation_sites/{SAKAI}/take-down"),
        ("POST", f"{sakai_version}/publish"),
        ("POST", f"{sakai_version}/rollback"),
        ("GET", f"/staff/?municipality={SAKAI}"),
        ("GET", "/staff/admin/accounts"),
        ("GET", "/staff/admin/audit"),
        ("GET", "/staff/admin/keys"),
    ):
        response = portal.request(method, url, data={"csrf": token} if method == "POST" else None)
        assert response.status_code == 403, (method, url, response.status_code)
    refused = portal.post(
        f"{base}/upload", data={"csrf": token}, files={"file": ("a.csv", aed_csv(GOOD))}
    )
    assert refused.status_code == 403
    staged = session.execute(
        text(
            "SELECT count(*) FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "WHERE d.layer_id = 'aed' AND d.municipality_code = :c"
        ),
        {"c": SAKAI},
    ).scalar_one()
    assert staged == 0


def test_a_viewer_reads_but_cannot_upload(portal, session, test_settings):
    account(session, test_settings, "viewer@city.kishiwada.lg.jp", KISHIWADA, "viewer")
    sign_in(portal, "viewer@city.kishiwada.lg.jp")
    page = portal.get(f"/staff/datasets/aed/{KISHIWADA}")
    assert page.status_code == 200 and 'type="file"' not in page.text
    refused = portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/upload",
        data={"csrf": csrf(page.text)},
        files={"file": ("aed.csv", aed_csv(GOOD))},
    )
    assert refused.status_code == 403


def test_a_form_without_a_session_is_refused_before_its_body_is_read(portal):
    response = portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/upload",
        files={"file": ("a.csv", b"x" * 100_000)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_html_in_file_names_and_cells_stays_inert_in_every_page(portal, session, editor, publisher):
    sign_in(portal, editor)
    hostile = "<script>alert(1)</script>"
    rows = [*GOOD, (f"{hostile}AED", "34.4601", "135.3702"), (hostile, "not-a-number", "135.37")]
    staged = upload(
        portal, aed_csv(rows), name='<img src=x onerror="alert(2)">.csv', accept_partial="true"
    )
    assert staged.status_code == 303
    version = staged.headers["location"]
    for url in (version, f"/staff/datasets/aed/{KISHIWADA}", f"{version}/map", f"{version}/rows/5"):
        page = portal.get(url).text
        assert "<script>alert" not in page and "<img src=x" not in page
        if not url.endswith("/map"):  # pages that show the names (the fix page: its row's)
            assert html.escape(hostile) in page or "&lt;img src=x" in page
    sign_in(portal, publisher)
    session.execute(
        text(
            "INSERT INTO staff_role SELECT id, '270008', 'admin' FROM staff_user "
            "WHERE login = :l ON CONFLICT DO NOTHING"
        ),
        {"l": publisher},
    )
    session.execute(
        text(
            "DELETE FROM staff_role WHERE municipality_code = :c AND user_id = "
            "(SELECT id FROM staff_user WHERE login = :l)"
        ),
        {"c": KISHIWADA, "l": publisher},
    )
    audit = portal.get("/staff/admin/audit")
    assert audit.status_code == 200 and "<img src=x" not in audit.text


def test_an_admin_creates_an_account_and_a_key_and_reads_the_audit_log(
    portal, session, test_settings
):
    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    sign_in(portal, "admin@pref.osaka.lg.jp")
    page = portal.get("/staff/admin/accounts")
    made = portal.post(
        "/staff/admin/accounts",
        data={
            "csrf": csrf(page.text),
            "login": "new@city.sakai.lg.jp",
            "display_name": "堺市 危機管理室",
            "municipality": SAKAI,
            "role": "publisher",
        },
    )
    assert made.status_code == 201 and "/staff/setup/" in made.text
    listing = portal.get("/staff/admin/accounts")
    assert "/staff/setup/" not in listing.text  # shown once
    new_id = session.execute(
        text("SELECT id FROM staff_user WHERE login = 'new@city.sakai.lg.jp'")
    ).scalar_one()
    changed = portal.post(
        f"/staff/admin/accounts/{new_id}/roles",
        data={"csrf": csrf(listing.text), "municipality": SAKAI, "role": "viewer"},
    )
    assert changed.status_code == 200 and "堺市" in changed.text
    roles = session.execute(
        text("SELECT role FROM staff_role WHERE user_id = :u"), {"u": new_id}
    ).all()
    assert roles == [("viewer",)]
    keys_page = portal.get("/staff/admin/keys")
    key_made = portal.post(
        "/staff/admin/keys",
        data={
            "csrf": csrf(keys_page.text),
            "municipality": SAKAI,
            "role": "editor",
            "label": "業者",
        },
    )
    assert key_made.status_code == 201
    key = key_made.text.split('id="new-key"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert key.startswith("msk_")
    listed = portal.get(
        f"/api/datasets/aed/{SAKAI}/versions", headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code in (200, 404)  # the key works (404: no AED versions in Sakai yet)
    audit = portal.get("/staff/admin/audit", params={"actor": "staff:admin@pref.osaka.lg.jp"})
    assert "user_create" in audit.text and "key_create" in audit.text
    exported = portal.get("/staff/admin/audit.csv", params={"action": "user_create"})
    assert exported.content.startswith("\ufeff".encode())
    assert "new@city.sakai.lg.jp" in exported.content.decode("utf-8")
    coverage_link = portal.get("/staff/")
    assert "/coverage/" in coverage_link.text


def test_disabling_an_account_ends_its_sessions_at_once(portal, session, test_settings, editor):
    sign_in(portal, editor)
    assert portal.get("/staff/").status_code == 200
    accounts.set_disabled(session, editor, True, "test")
    assert portal.get("/staff/", follow_redirects=False).status_code == 303
    assert sign_in(portal, editor).status_code == 401


def test_fixes_applied_again_build_on_the_earlier_ones_and_the_upload_is_never_changed(
    portal, session, editor
):
    sign_in(portal, editor)
    data = aed_csv([*GOOD, ("位置なしAED", "", ""), ("名前違いAED", "34.4610", "135.3720")])
    staged = upload(portal, data, accept_partial="true")
    first = staged.headers["location"]
    report = portal.get(first)
    assert f'href="{first}/rows/4"' in report.text  # the row without a position can be fixed
    page = portal.get(f"{first}/rows/4")
    assert (
        page.status_code == 200
        and 'id="fix-map"' in page.text
        and "緯度・経度がありません" in page.text
    )

    def fixed(version: str, row: int, **form: str) -> str:
        """The version made by applying one fix of ``row``."""
        page = portal.get(f"{version}/rows/{row}")
        portal.post(f"{version}/rows/{row}", data={"csrf": csrf(page.text), **form})
        listed = portal.get(version).text
        seen = listed.split('name="seen" value="')[1].split('"')[0]
        done = portal.post(
            f"{version}/fixes/apply",
            data={"csrf": csrf(listed), "seen": seen},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        return done.headers["location"].split("?")[0]

    second = fixed(first, 4, lat="34.4612", lon="135.3695")
    revised = portal.get(f"{second}?done=revised")
    assert "元のファイルはそのまま" in revised.text and "手で直した内容" in revised.text
    assert f"staff:{editor}" in revised.text
    third = fixed(second, 5, column="名称", value="岸和田市立図書館AED")
    dropped = fixed(third, 2, drop="true")
    edits = session.execute(
        text(
            "SELECT report -> 'edits', report -> 'accepted', report -> 'left_out' FROM version "
            "WHERE id = :v"
        ),
        {"v": int(dropped.rsplit("/", 1)[1])},
    ).one()
    changes = [(e["row"], e["change"], e.get("old"), e.get("new")) for e in edits[0]]
    assert changes == [  # every edit so far, in the file's row order
        (2, "drop", None, None),
        (4, "position", None, "34.4612, 135.3695"),
        (5, "cell", "名前違いAED", "岸和田市立図書館AED"),
    ]
    assert edits[1] == 3 and edits[2] == 1  # rows 3, 4 and 5; row 2 left out
    original = portal.get(f"{first}/original")
    assert original.content == data  # the upload itself is never changed
    assert portal.get(f"{dropped}/original").content == data


def test_a_publisher_takes_a_dataset_down_with_a_reason_and_publishing_again_brings_it_back(
    portal, session, publisher
):
    sign_in(portal, publisher)
    staged = upload(portal, aed_csv(GOOD))
    version = staged.headers["location"]
    ask = portal.get(f"{version}/publish")
    portal.post(f"{version}/publish", data={"csrf": csrf(ask.text)})
    ask = portal.get(f"/staff/datasets/aed/{KISHIWADA}/take-down")
    assert "版はすべて残り" in ask.text
    no_reason = portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/take-down", data={"csrf": csrf(ask.text)}
    )
    assert no_reason.status_code == 400 and "理由" in no_reason.text
    done = portal.post(
        f"/staff/datasets/aed/{KISHIWADA}/take-down",
        data={"csrf": csrf(ask.text), "reason": "設置場所の調査中"},
    )
    assert done.status_code == 200 and "公開を取り下げました" in done.text
    items = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA}).json()
    assert items["numberMatched"] == 0
    reason = session.execute(
        text(
            "SELECT detail ->> 'reason' FROM audit_log WHERE action = 'take_down' "
            "ORDER BY id DESC LIMIT 1"
        )
    ).scalar_one()
    assert reason == "設置場所の調査中"
    again = portal.get(f"{version}/rollback")
    portal.post(f"{version}/rollback", data={"csrf": csrf(again.text)})
    items = portal.get("/api/collections/aed/items", params={"municipality": KISHIWADA}).json()
    assert items["numberMatched"] == len(GOOD)


def test_signing_out_everywhere_ends_the_other_devices_sessions(
    portal, session, test_settings, editor
):
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as phone:
        sign_in(phone, editor)
        sign_in(portal, editor)
        assert phone.get("/staff/").status_code == 200
        home = portal.get("/staff/")
        portal.post("/staff/logout", data={"csrf": csrf(home.text), "everywhere": "true"})
        assert phone.get("/staff/", follow_redirects=False).status_code == 303


def test_data_older_than_its_layers_threshold_is_marked_stale(portal, session, publisher):
    sign_in(portal, publisher)
    staged = upload(portal, aed_csv(GOOD))
    ask = portal.get(f"{staged.headers['location']}/publish")
    portal.post(f"{staged.headers['location']}/publish", data={"csrf": csrf(ask.text)})
    assert "古いデータ" not in portal.get("/staff/").text
    session.execute(
        text(
            "UPDATE version SET published_at = now() - interval '200 days' "
            "WHERE status = 'published' AND created_by = :a"
        ),
        {"a": f"staff:{publisher}"},
    )
    home = portal.get("/staff/")
    assert "古いデータ（180日以上前）" in home.text  # AEDs: 180 days (layers/definitions/aed.toml)


def test_an_uploads_progress_can_be_polled_by_its_job_id_while_signed_in(
    portal, editor, session, test_settings
):
    sign_in(portal, editor)
    rows = [(f"AED {i}", f"{34.45 + i / 100000:.6f}", "135.3700") for i in range(2500)]
    job = "job-0123456789abcdef"
    done = upload(portal, aed_csv(rows), job=job)
    assert done.status_code == 303
    assert portal.get(f"/staff/progress/{job}").json() == {"rows": 2500, "done": True}
    assert portal.get("/staff/progress/job-unknown-000000").status_code == 404
    # Another worker (another app, as `mapsvc serve --workers 2` runs) answers the same poll.
    other = create_app(test_settings)
    other.dependency_overrides[get_session] = lambda: session
    with TestClient(other, base_url="https://testserver") as second_worker:
        sign_in(second_worker, editor)
        assert second_worker.get(f"/staff/progress/{job}").json() == {"rows": 2500, "done": True}
    portal.cookies.clear()
    assert portal.get(f"/staff/progress/{job}", follow_redirects=False).status_code == 303


def test_upload_progress_is_written_at_most_twice_a_second_and_read_by_every_worker(
    engine, session
):
    from sqlalchemy.orm import sessionmaker

    from mapsvc.services.upload_progress import MIN_INTERVAL_S, UploadProgress

    mine, other_worker = UploadProgress(sessionmaker(engine)), UploadProgress(sessionmaker(engine))
    job = "job-throttle-000000000001"
    mine.update(job, 0)
    mine.update(job, 1000)  # within the interval: not written
    assert other_worker.get(session, job) == {"rows": 0, "done": False}
    time.sleep(MIN_INTERVAL_S)
    mine.update(job, 2000)
    assert other_worker.get(session, job) == {"rows": 2000, "done": False}
    mine.update(job, 2500, done=True)  # the end is always written
    assert other_worker.get(session, job) == {"rows": 2500, "done": True}
    mine.update("../../etc", 5)  # not a job id: ignored
    assert other_worker.get(session, "../../etc") is None


def an_admin_makes_an_account(admin: TestClient):
    """Sign in as the prefecture's admin and make 島本町's clerk through the accounts page."""
    sign_in(admin, "admin@pref.osaka.lg.jp")
    page = admin.get("/staff/admin/accounts")
    return admin.post(
        "/staff/admin/accounts",
        data={
            "csrf": csrf(page.text),
            "login": "kikaku@town.shimamoto.lg.jp",
            "display_name": "島本町 企画課",
            "municipality": "273015",
            "role": "editor",
        },
    )


def test_with_a_mail_server_the_invitation_is_also_e_mailed(session, test_settings):
    with inbox(test_settings) as (settings, received):
        app = create_app(settings)
        app.dependency_overrides[get_session] = lambda: session
        account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
        with TestClient(app, base_url="https://testserver") as admin:
            made = an_admin_makes_an_account(admin)
        assert made.status_code == 201 and "メールアドレスにも送りました" in made.text
    [(to, message)] = received
    link = made.text.split('id="one-time-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert to == ["kikaku@town.shimamoto.lg.jp"] and link in message.get_content()


def test_a_mail_server_that_is_down_shows_the_link_and_says_the_mail_failed(session, test_settings):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    staff = test_settings.staff.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    app = create_app(test_settings.model_copy(update={"staff": staff}))
    app.dependency_overrides[get_session] = lambda: session
    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    with TestClient(app, base_url="https://testserver") as admin:
        made = an_admin_makes_an_account(admin)
    assert made.status_code == 201 and "メールは送れませんでした" in made.text
    link = made.text.split('id="one-time-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "/staff/setup/" in link


def test_the_last_admin_cannot_disable_itself_and_a_disabled_account_is_enabled_not_reset(
    portal, session, test_settings, editor
):
    me = account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    sign_in(portal, "admin@pref.osaka.lg.jp")
    token = csrf(portal.get("/staff/admin/accounts").text)
    alone = portal.post(f"/staff/admin/accounts/{me}/disable", data={"csrf": token})
    assert alone.status_code == 409 and "最後の管理者" in alone.text
    demoted = portal.post(
        f"/staff/admin/accounts/{me}/roles",
        data={"csrf": token, "municipality": KISHIWADA, "role": "editor"},
    )
    assert demoted.status_code == 409 and "最後の管理者" in demoted.text
    assert portal.get("/staff/admin/accounts").status_code == 200  # still an admin, signed in

    clerk = accounts.find_account(session, editor).id
    off = portal.post(f"/staff/admin/accounts/{clerk}/disable", data={"csrf": token})
    assert off.status_code == 200 and accounts.find_account(session, editor).state == "disabled"
    link = portal.post(f"/staff/admin/accounts/{clerk}/reset", data={"csrf": token})
    assert link.status_code == 409 and "再開してください" in link.text
    assert 'id="one-time-link"' not in link.text
    page = portal.get("/staff/admin/accounts").text
    assert f'action="/staff/admin/accounts/{clerk}/disable"' in page and "再開" in page
    on = portal.post(
        f"/staff/admin/accounts/{clerk}/disable", data={"csrf": token, "disabled": "false"}
    )
    assert on.status_code == 200 and accounts.find_account(session, editor).state == "active"
    assert sign_in(portal, editor).status_code == 303  # the old password works again


def test_one_time_links_use_the_public_url_and_their_token_stays_out_of_the_access_log(
    session, test_settings, caplog
):
    app = create_app(test_settings.model_copy(update={"public_url": "https://map.example.jp/"}))
    app.dependency_overrides[get_session] = lambda: session
    account(session, test_settings, "admin@pref.osaka.lg.jp", PREFECTURE, "admin")
    with TestClient(app, base_url="https://evil.example") as admin:  # the Host a request claims
        made = an_admin_makes_an_account(admin)
        link = made.text.split('id="one-time-link"')[0].rsplit('value="', 1)[1].split('"')[0]
        assert link.startswith("https://map.example.jp/staff/setup/"), link
        token = link.rsplit("/", 1)[1]
        with caplog.at_level(logging.INFO):
            assert admin.get(f"/staff/setup/{token}").status_code == 200
    logged = [r for r in caplog.records if r.name == "mapsvc.access"]
    assert [r.fields["path"] for r in logged] == ["/staff/setup/[redacted]"]
    server = [r for r in caplog.records if r.name.startswith("mapsvc")]  # not the test's client
    assert not [r.getMessage() for r in server if token in r.getMessage() + str(vars(r))]
