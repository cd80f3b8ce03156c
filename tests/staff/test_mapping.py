"""The upload's column-mapping screen (issue 25 item 15): a file's headers, each with a
drop-down of the layer's attributes, its first rows, and the choice sent as ``columns``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mapsvc.api.deps import get_session
from mapsvc.app import create_app
from tests.support.portal import account, csrf, sign_in
from tests.support.variants import xlsx_workbook

pytestmark = pytest.mark.db

KISHIWADA = "272027"
DATASET = f"/staff/datasets/aed/{KISHIWADA}"
# Headers no alias knows (北緯/東経) beside ones it does (施設名称), as a clerk's own list has.
OWN_HEADERS = ["施設名称", "北緯", "東経", "設置場所メモ", "担当"]
OWN_ROWS = [
    ["岸和田市役所", "34.4603", "135.3716", "1階ロビー", "総務課"],
    ["岸和田城", "34.4597", "135.3680", "天守閣入口", "観光課"],
]
_SELECT = re.compile(r'<select class="mapping-choice" data-header="([^"]*)".*?</select>', re.S)
_SELECTED = re.compile(r'<option value="([^"]*)" selected>')


@pytest.fixture
def portal(session, test_settings) -> Iterator[TestClient]:
    app = create_app(test_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, base_url="https://testserver") as client:
        account(session, test_settings, "editor@city.kishiwada.lg.jp", KISHIWADA, "editor")
        sign_in(client, "editor@city.kishiwada.lg.jp")
        yield client


def own_csv(encoding: str = "cp932") -> bytes:
    lines = [",".join(OWN_HEADERS), *(",".join(row) for row in OWN_ROWS)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def mapping_screen(portal: TestClient, data: bytes, name: str, lang: str = "ja", **form: str):
    token = csrf(portal.get(DATASET).text)
    return portal.post(
        f"{DATASET}/columns?lang={lang}",
        data={"csrf": token, **form},
        files={"file": (name, data)},
    )


def choices(page: str) -> dict[str, str]:
    """Header -> the option the screen chose for it."""
    found = {}
    for match in _SELECT.finditer(page):
        selected = _SELECTED.search(match.group(0))
        found[html.unescape(match.group(1))] = selected.group(1) if selected else "(none)"
    return found


def upload(portal: TestClient, data: bytes, name: str, **form: str):
    token = csrf(portal.get(DATASET).text)
    return portal.post(
        f"{DATASET}/upload",
        data={"csrf": token, **form},
        files={"file": (name, data)},
        follow_redirects=False,
    )


def stored_properties(session, response) -> list[dict]:
    version = int(response.headers["location"].rsplit("/", 1)[1])
    rows = session.execute(
        text("SELECT properties FROM feature WHERE version_id = :v ORDER BY source_row"),
        {"v": version},
    )
    return [r[0] for r in rows]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-16"])
def test_the_screen_lists_each_header_with_its_attribute_chosen_from_the_aliases(portal, encoding):
    page = mapping_screen(portal, own_csv(encoding), "aed.csv")
    assert page.status_code == 200, page.text
    assert choices(page.text) == {
        "施設名称": "name",
        "北緯": "",  # no alias: kept as it is until the clerk says otherwise
        "東経": "",
        "設置場所メモ": "",
        "担当": "",
    }
    # The layer's attributes are offered in words, the coordinates as positions.
    assert ">設置位置<" in page.text and ">緯度<" in page.text and ">使わない<" in page.text
    # The first rows, as the upload reads them (the encoding it detected said).
    assert "1階ロビー" in page.text and "天守閣入口" in page.text
    assert ("cp932" in page.text) is (encoding == "cp932")


def test_the_chosen_mapping_is_the_uploads_columns_option_and_imports_the_file(portal, session):
    without = upload(portal, own_csv(), "aed.csv")
    assert without.status_code == 422 and "緯度・経度" in without.text  # no coordinates found
    chosen = choices(mapping_screen(portal, own_csv(), "aed.csv").text)
    chosen |= {
        "北緯": "latitude",
        "東経": "longitude",
        "設置場所メモ": "location_detail",
        "担当": "-",
    }
    done = upload(portal, own_csv(), "aed.csv", columns=orjson.dumps(chosen).decode())
    assert done.status_code == 303, done.text
    stored = stored_properties(session, done)
    assert [p["name"] for p in stored] == ["岸和田市役所", "岸和田城"]
    assert [p["location_detail"] for p in stored] == ["1階ロビー", "天守閣入口"]
    assert all("担当" not in p and "北緯" not in p for p in stored)  # ignored, and used as position


def test_use_as_is_overrules_an_alias_and_keeps_the_column_under_its_header(portal, session):
    data = "名称,緯度,経度,備考\r\n市役所AED,34.4603,135.3716,1階\r\n".encode("cp932")
    done = upload(portal, data, "aed.csv", columns=orjson.dumps({"備考": ""}).decode())
    assert done.status_code == 303, done.text
    [stored] = stored_properties(session, done)
    assert stored["備考"] == "1階" and "note" not in stored


def test_an_excel_files_sheets_are_offered_and_the_chosen_one_is_read(portal):
    data = xlsx_workbook(
        [
            ("表紙", [["AED設置場所一覧"], ["令和8年4月"]]),
            ("一覧", [["AED設置場所一覧"], OWN_HEADERS, *OWN_ROWS]),
        ]
    )
    first = mapping_screen(portal, data, "aed.xlsx")
    assert first.status_code == 200, first.text
    assert '<option value="表紙" selected>' in first.text and '<option value="一覧">' in first.text
    chosen = mapping_screen(portal, data, "aed.xlsx", sheet="一覧")
    assert chosen.status_code == 200, chosen.text
    assert 'class="mapping-sheet"' in chosen.text
    assert '<option value="一覧" selected>' in chosen.text
    assert choices(chosen.text)["施設名称"] == "name"
    assert "1行目を表題として読み飛ばし" in chosen.text  # the upload's title-row rule, said


def test_an_unreadable_file_gets_the_readers_reason_in_the_persons_language(portal):
    data = b"\x00\x01binary" * 100
    page = mapping_screen(portal, data, "aed.csv")
    assert page.status_code == 422
    assert "テキスト（CSV）ファイルではありません" in page.text
    english = mapping_screen(portal, data, "aed.csv", lang="en")
    assert "This is not a text (CSV) file" in english.text
    wide = (",".join(f"列{i}" for i in range(1001)) + "\r\n" + ",".join("1" * 1001)).encode()
    too_wide = mapping_screen(portal, wide, "wide.csv")  # a drop-down per column: bounded
    assert too_wide.status_code == 422 and "列が多すぎます（1,001 列" in too_wide.text
    missing_sheet = mapping_screen(
        portal, xlsx_workbook([("一覧", [OWN_HEADERS])]), "a.xlsx", sheet="x"
    )
    assert missing_sheet.status_code == 422 and "シート「x」がありません" in missing_sheet.text


def test_a_viewer_gets_no_mapping_screen(portal, session, test_settings):
    account(session, test_settings, "viewer@city.kishiwada.lg.jp", KISHIWADA, "viewer")
    portal.cookies.clear()
    sign_in(portal, "viewer@city.kishiwada.lg.jp")
    token = csrf(portal.get("/staff/").text)
    page = portal.post(
        f"{DATASET}/columns", data={"csrf": token}, files={"file": ("a.csv", own_csv())}
    )
    assert page.status_code == 403


def test_the_dataset_page_offers_the_templates_and_one_uploaded_as_it_is_needs_no_mapping(
    portal, session
):
    page = portal.get(DATASET).text
    excel = f"/api/collections/aed/template.xlsx?municipality={KISHIWADA}"
    assert f'href="{excel}"' in page and "template.csv" in page
    template = portal.get(excel).content
    screen = mapping_screen(portal, template, "template-aed.xlsx")
    assert "" not in choices(screen.text).values()  # every header is an attribute or position
    done = upload(portal, template, "template-aed.xlsx")
    assert done.status_code == 303, done.text
    [stored] = stored_properties(session, done)
    assert stored["name"] == "（記入例）名称" and stored["location_detail"] == "（記入例）設置位置"
