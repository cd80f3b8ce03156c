"""The disaster board and disaster mode through HTTP: rights, changes, retries, 412, bad input."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from mapsvc.services import shelter_status
from tests.support.portal import account, csrf, sign_in

pytestmark = pytest.mark.db

KISHIWADA, SAKAI = "272027", "271403"
DUTY = "tochoku@city.kishiwada.lg.jp"
PUBLISHER = "bosai@city.kishiwada.lg.jp"
SITE = re.compile(r'data-site="(evacuation_sites):([^"]+)"')


@pytest.fixture
def portal(session, test_settings) -> Iterator[TestClient]:
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as browser:
        yield browser


@pytest.fixture
def duty(portal, session, test_settings) -> TestClient:
    """Kishiwada's duty officer: the ``status`` role only, signed in."""
    account(session, test_settings, DUTY, KISHIWADA, "status")
    assert sign_in(portal, DUTY).status_code == 303
    return portal


def board(portal: TestClient, query: str = "") -> str:
    page = portal.get(f"/staff/board/{KISHIWADA}{query}")
    assert page.status_code == 200, page.text
    return page.text


def first_site(page: str) -> str:
    found = SITE.search(page)
    assert found, "the board lists no evacuation site"
    return html.unescape(found.group(2))


def change(portal: TestClient, page: str, key: str, *, json: bool = True, **fields: str):
    form = {
        "csrf": csrf(page),
        "layer": "evacuation_sites",
        "key": key,
        "mode": "real",
        "change_id": str(uuid.uuid4()),
    } | fields
    headers = {"Accept": "application/json"} if json else {}
    return portal.post(
        f"/staff/board/{KISHIWADA}/change", data=form, headers=headers, follow_redirects=False
    )


def events(session, key: str, mode: str = "real"):
    return shelter_status.timeline(session, "evacuation_sites", KISHIWADA, key, mode=mode)


def test_a_duty_officer_opens_a_site_in_one_post_and_it_is_on_its_timeline(duty, session):
    page = board(duty)
    assert "開設" in page and "受け入れ不可" in page and "避難者数" in page
    assert (
        "開設状況は未発表" in page and "未開設" not in page
    )  # nothing recorded: no status guessed
    key = first_site(page)
    answer = change(duty, page, key, status="open")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["etag"].startswith('"') and f'data-site="evacuation_sites:{key}"' in body["row"]
    [event] = events(session, key)
    assert (event.status, event.actor) == ("open", f"staff:{DUTY}")
    timeline = duty.get(
        f"/staff/board/{KISHIWADA}/timeline", params={"layer": "evacuation_sites", "key": key}
    )
    assert timeline.status_code == 200 and DUTY in timeline.text


def test_a_retried_change_makes_one_event_and_a_stale_one_is_refused_with_412(duty, session):
    page = board(duty)
    key = first_site(page)
    same = str(uuid.uuid4())
    first = change(duty, page, key, status="open", change_id=same)
    again = change(duty, page, key, status="open", change_id=same)
    assert first.status_code == again.status_code == 200
    assert first.json()["etag"] == again.json()["etag"]
    assert len(events(session, key)) == 1
    stale = change(duty, page, key, status="closed", if_match='"stale:0"')
    assert stale.status_code == 412
    assert stale.json()["message_ja"] and stale.json()["message_en"]
    assert len(events(session, key)) == 1
    now = duty.get(
        f"/staff/board/{KISHIWADA}/row", params={"layer": "evacuation_sites", "key": key}
    )
    assert now.status_code == 200 and now.json()["etag"] == first.json()["etag"]


def test_a_post_without_the_script_comes_back_to_the_board(duty, session):
    page = board(duty)
    key = first_site(page)
    answer = change(duty, page, key, json=False, set="evacuees", evacuees="１２")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/staff/board/{KISHIWADA}?mode=real#site-")
    assert events(session, key)[-1].evacuees == 12


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"set": "evacuees", "evacuees": "たくさん"}, "避難者数は0以上の整数"),
        ({"set": "evacuees", "evacuees": "²"}, "避難者数は0以上の整数"),  # a digit to isdigit()
        ({"set": "capacity", "capacity": "0"}, "capacity は 1 以上"),
        ({"status": "open", "mode": "live"}, "モードは real"),
        ({"status": "open", "change_id": "not-a-uuid"}, "change_id"),
        ({}, "変更する内容がありません"),
    ],
)
def test_bad_input_gets_a_bilingual_answer_not_a_500(duty, fields, words):
    page = board(duty)
    answer = change(duty, page, first_site(page), **fields)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message_ja"] and answer.json()["message_en"]


def test_a_status_only_account_may_use_the_board_but_not_upload_publish_or_start_disaster_mode(
    duty,
):
    home = duty.get("/staff/")
    assert f"/staff/board/{KISHIWADA}" in home.text
    assert f"/staff/emergency/{KISHIWADA}" not in home.text
    assert duty.get(f"/staff/emergency/{KISHIWADA}").status_code == 403
    page = duty.get(f"/staff/datasets/aed/{KISHIWADA}").text
    upload = duty.post(
        f"/staff/datasets/aed/{KISHIWADA}/upload",
        data={"csrf": csrf(page)},
        files={"file": ("aed.csv", b"x")},
    )
    assert upload.status_code == 403
    start = duty.post(
        f"/staff/emergency/{KISHIWADA}/start",
        data={"csrf": csrf(page), "hazard": "flood", "message_ja": "あ", "message_en": "a"},
    )
    assert start.status_code == 403


def test_another_municipalitys_board_is_refused(duty):
    page = board(duty)
    assert duty.get(f"/staff/board/{SAKAI}").status_code == 403
    form = {
        "csrf": csrf(page),
        "layer": "evacuation_sites",
        "key": "x",
        "change_id": str(uuid.uuid4()),
        "status": "open",
    }
    assert duty.post(f"/staff/board/{SAKAI}/change", data=form).status_code == 403


def test_a_change_without_the_sessions_token_is_refused(duty, session):
    page = board(duty)
    key = first_site(page)
    answer = change(duty, page, key, status="open", csrf="forged")
    assert answer.status_code == 403
    assert events(session, key) == []


def test_every_flood_site_of_the_chosen_districts_opens_in_one_confirmed_action(duty, session):
    page = board(duty, "?hazard=flood")
    shown = SITE.findall(page)
    assert shown, "岸和田市 has sites designated for floods"
    district = re.search(r'name="district" value="([^"]+)"', page)
    query = f"?hazard=flood&district={district.group(1)}" if district else "?hazard=flood"
    chosen = [html.unescape(k) for _, k in SITE.findall(board(duty, query))]
    ask = duty.get(f"/staff/board/{KISHIWADA}/open-many{query}")
    assert ask.status_code == 200 and "はい、開設します" in ask.text
    assert not any(events(session, k) for k in chosen)  # asking changes nothing
    form = {"csrf": csrf(ask.text), "hazard": "flood", "mode": "real"}
    if district:
        form["district"] = district.group(1)
    done = duty.post(f"/staff/board/{KISHIWADA}/open-many", data=form, follow_redirects=False)
    assert done.status_code == 303 and f"done={len(chosen)}" in done.headers["location"]
    assert all(events(session, k)[-1].status == "open" for k in chosen)


def test_a_drill_is_marked_and_kept_apart_from_the_real_status(duty, session):
    page = board(duty, "?mode=drill")
    assert "訓練モード：" in page
    key = first_site(page)
    answer = change(duty, page, key, status="open", mode="drill")
    assert answer.status_code == 200 and "訓練モード：" not in board(duty)
    assert events(session, key) == [] and len(events(session, key, "drill")) == 1
    drill = {"layer": "evacuation_sites", "key": key, "mode": "drill"}
    for screen in (
        duty.get(f"/staff/board/{KISHIWADA}/timeline", params=drill),
        duty.get(
            f"/staff/board/{KISHIWADA}/open-many", params={"hazard": "flood", "mode": "drill"}
        ),
    ):
        assert screen.status_code == 200 and "訓練モード：" in screen.text


def start_emergency(portal: TestClient, token: str, level: str):
    return portal.post(
        f"/staff/emergency/{KISHIWADA}/start",
        data={
            "csrf": token,
            "hazard": "flood",
            "alert_level": level,
            "message_ja": "大津川が氾濫危険水位に達しました",
            "message_en": "The Otsu River has reached the flood danger level",
        },
    )


def test_a_publisher_starts_and_ends_disaster_mode(portal, session, test_settings):
    account(session, test_settings, PUBLISHER, KISHIWADA, "publisher")
    sign_in(portal, PUBLISHER)
    assert f"/staff/emergency/{KISHIWADA}" in portal.get("/staff/").text
    page = portal.get(f"/staff/emergency/{KISHIWADA}")
    assert page.status_code == 200 and "いまは災害モードではありません" in page.text
    token = csrf(page.text)
    bad = start_emergency(portal, token, "9")
    assert bad.status_code == 400 and "警戒レベルは 1 から 5" in bad.text
    started = start_emergency(portal, token, "4")
    assert started.status_code == 200 and "災害モード中：洪水・警戒レベル4" in started.text
    again = start_emergency(portal, token, "5")
    assert again.status_code == 409 and "もう始まっています" in again.text
    ended = portal.post(f"/staff/emergency/{KISHIWADA}/end", data={"csrf": token, "mode": "real"})
    assert "災害モードを終えました" in ended.text and "いまは災害モードではありません" in ended.text


@pytest.mark.parametrize("level", ["²", "①", "-1", "3.0"])  # "²" and "①" pass str.isdigit
def test_an_alert_level_that_is_not_a_number_is_a_bilingual_400_and_starts_nothing(
    portal, session, test_settings, level
):
    account(session, test_settings, PUBLISHER, KISHIWADA, "publisher")
    sign_in(portal, PUBLISHER)
    token = csrf(portal.get(f"/staff/emergency/{KISHIWADA}").text)
    refused = start_emergency(portal, token, level)
    assert refused.status_code == 400, refused.text
    assert "警戒レベルは 1 から 5" in refused.text
    assert "いまは災害モードではありません" in portal.get(f"/staff/emergency/{KISHIWADA}").text


def test_the_audit_log_names_who_changed_which_site_in_words(duty, session, test_settings):
    page = board(duty)
    key = first_site(page)
    assert change(duty, page, key, status="open").status_code == 200
    account(session, test_settings, "admin@pref.osaka.lg.jp", "270008", "admin")
    sign_in(duty, "admin@pref.osaka.lg.jp")
    audit = duty.get("/staff/admin/audit")
    assert audit.status_code == 200
    assert "避難所の開設状況の変更" in audit.text and f"避難所・避難場所: {key}" in audit.text
