"""Harvest runs against loopback hosts that change their files: what is published, what waits.

Everything runs in the test's rolled-back transaction (the database clock stands still in it,
so back-off times are exact).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from mapsvc.db import harvest
from mapsvc.errors import InvalidParameter
from mapsvc.services import uploads
from mapsvc.services.harvest import manage
from mapsvc.services.harvest.fetcher import FetchPolicy
from mapsvc.services.harvest.runs import KEEP_FETCHES
from mapsvc.services.harvest.sources import source_definition
from mapsvc.services.versions import SourceFile
from mapsvc.settings import HarvestSettings, Settings
from tests.support.file_hosts import FileHost, Reply, file_host
from tests.support.paths import PROJECT
from tests.support.staging import KISHIWADA

pytestmark = pytest.mark.db


def aed_csv(count: int, *, encoding: str = "utf-8", shift_m: float = 0.0) -> bytes:
    """``count`` AEDs of Kishiwada, each ``shift_m`` metres north of its usual place."""
    lines = ["ID,名称,緯度,経度"]
    for i in range(count):
        lat = 34.46 + i / 2000 + shift_m / 111_000
        lines.append(f"{i + 1},岸和田市立施設{i + 1},{lat:.6f},135.37")
    return ("\n".join(lines) + "\n").encode(encoding)


@pytest.fixture
def settings(test_settings: Settings) -> Settings:
    harvest_settings = HarvestSettings(
        allow_networks="127.0.0.0/8",
        allow_http_hosts="127.0.0.1",
        read_timeout_s=1,
        total_timeout_s=3,
    )
    imports = test_settings.imports.model_copy(update={"max_upload_bytes": 20_000})
    return test_settings.model_copy(update={"harvest": harvest_settings, "imports": imports})


@pytest.fixture
def host() -> Iterator[FileHost]:
    with file_host() as running:
        yield running


def add_source(session, settings, catalog, url: str, **given) -> None:
    definition = source_definition(
        FetchPolicy.from_settings(settings), kind=given.pop("kind", "file"), url=url, **given
    )
    manage.set_source(
        session,
        layer=catalog["aed"],
        municipality=KISHIWADA,
        definition=definition,
        actor="test",
    )


def run(session, settings, catalog):
    return manage.run_now(session, settings, catalog, "aed", KISHIWADA)


def published(session) -> tuple[int, int] | None:
    """The published version of Kishiwada's AEDs and its feature count."""
    row = session.execute(
        text(
            "SELECT v.id, v.feature_count FROM dataset d JOIN version v "
            "ON v.id = d.current_version_id WHERE d.layer_id = 'aed' AND d.municipality_code = :m"
        ),
        {"m": KISHIWADA},
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def versions(session) -> int:
    return session.execute(
        text(
            "SELECT count(*) FROM version v JOIN dataset d ON d.id = v.dataset_id "
            "WHERE d.layer_id = 'aed' AND d.municipality_code = :m"
        ),
        {"m": KISHIWADA},
    ).scalar_one()


def test_a_clean_first_file_is_published_and_an_unchanged_one_makes_no_version(
    session, settings, catalog, host
):
    host.file("/aed.csv", aed_csv(10))
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    first = run(session, settings, catalog)
    assert first.outcome == "published"
    assert published(session) == (first.version_id, 10)

    again = run(session, settings, catalog)  # the host answers 304 to the ETag
    assert (again.outcome, again.http_status, again.version_id) == ("unchanged", 304, None)
    assert host.requests[-1][1]["if-none-match"]

    host.plain("/aed.csv", Reply(body=aed_csv(10)))  # no validators, same bytes: the hash says
    same = run(session, settings, catalog)
    assert (same.outcome, same.http_status) == ("unchanged", 200)
    assert versions(session) == 1

    view = manage.show_source(session, "aed", KISHIWADA)
    assert [h["outcome"] for h in view["history"]] == ["unchanged", "unchanged", "published"]
    assert view["history"][-1]["version_id"] == first.version_id
    assert view["history"][-1]["bytes"] == len(aed_csv(10))
    assert view["last_checked_at"] and view["last_changed_at"]
    assert view["problem"] is None


def test_a_changed_clean_file_is_published(session, settings, catalog, host):
    host.file("/aed.csv", aed_csv(10))
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    run(session, settings, catalog)
    host.file("/aed.csv", aed_csv(11))
    changed = run(session, settings, catalog)
    assert changed.outcome == "published"
    assert published(session) == (changed.version_id, 11)


def test_a_file_that_loses_half_its_rows_is_staged_and_flagged_for_a_person(
    session, settings, catalog, host
):
    host.file("/aed.csv", aed_csv(10))
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    first = run(session, settings, catalog)
    host.file("/aed.csv", aed_csv(5))
    halved = run(session, settings, catalog)
    assert halved.outcome == "staged"
    assert published(session) == (first.version_id, 10)  # residents still see the ten
    view = manage.show_source(session, "aed", KISHIWADA)
    assert view["needs_person"] is True
    assert "5 of the 10 published features would disappear" in view["problem"]["en"]
    assert "なくなります" in view["problem"]["ja"]


def test_a_feature_moved_more_than_the_limit_is_staged(session, settings, catalog, host):
    host.file("/aed.csv", aed_csv(10))
    add_source(session, settings, catalog, f"{host.base}/aed.csv", max_move_m=500)
    first = run(session, settings, catalog)
    host.file("/aed.csv", aed_csv(10, shift_m=800))
    moved = run(session, settings, catalog)
    assert moved.outcome == "staged"
    assert "A feature moves 799 m (limit 500 m)" in (moved.message_en or "")
    assert published(session) == (first.version_id, 10)


def test_shift_jis_one_month_and_utf8_the_next_are_both_read(session, settings, catalog, host):
    host.file("/aed.csv", aed_csv(10, encoding="cp932"))
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    assert run(session, settings, catalog).outcome == "published"
    host.file("/aed.csv", aed_csv(11, encoding="utf-8"))
    assert run(session, settings, catalog).outcome == "published"
    names = session.execute(
        text(
            "SELECT properties->>'name' FROM published_feature "
            "WHERE layer_id = 'aed' AND municipality_code = :m ORDER BY 1 LIMIT 1"
        ),
        {"m": KISHIWADA},
    ).scalar_one()
    assert names.startswith("岸和田市立施設")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(500, b"oops"), "HTTP 500"),
        (Reply(body=b"a,b\n", stall_s=3, length=False), "did not answer"),
        (Reply(302, headers={"Location": "http://169.254.169.254/"}), "https only"),
        (Reply(body=b"x" * 30_000), "larger than the limit"),
        (Reply(body=b"x" * 200, drip_s=0.05), "did not finish within 3 s"),
    ],
    ids=["server-error", "timeout", "redirect-to-internal", "over-limit", "slow-drip"],
)
def test_failures_are_recorded_publish_nothing_and_back_off(
    session, settings, catalog, host, reply, expected
):
    host.plain("/aed.csv", reply)
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    now = harvest.now(session)
    for failures, hours in ((1, 1), (2, 2), (3, 4)):
        result = run(session, settings, catalog)
        assert result.outcome == "failed"
        assert expected in (result.message_en or "")
        view = manage.show_source(session, "aed", KISHIWADA)
        assert view["failures"] == failures
        assert view["next_run_at"] == (now + timedelta(hours=hours)).isoformat(timespec="seconds")
        assert view["flagged"] is (failures >= 3)
    assert versions(session) == 0 and published(session) is None
    assert view["problem"]["en"] == result.message_en

    host.file("/aed.csv", aed_csv(3))  # the file is back: the flag and the problem go
    assert run(session, settings, catalog).outcome == "published"
    view = manage.show_source(session, "aed", KISHIWADA)
    assert (view["failures"], view["flagged"], view["problem"]) == (0, False, None)


def test_a_ckan_dataset_resource_is_picked_by_format_and_tag(session, settings, catalog, host):
    host.file("/files/272027_aed.csv", aed_csv(4))
    host.file("/files/272027_aed.xlsx", b"not this one", content_type="application/vnd.ms-excel")
    host.ckan_dataset(
        "272027-aed",
        [
            {
                "name": "AED設置箇所一覧（Excel）",
                "format": "XLSX",
                "url": f"{host.base}/files/272027_aed.xlsx",
            },
            {
                "name": "AED設置箇所一覧",
                "format": "CSV",
                "url": f"{host.base}/files/272027_aed.csv",
            },
        ],
        tags=["自治体標準ODS", "AED設置箇所"],
    )
    add_source(
        session,
        settings,
        catalog,
        host.base,
        kind="ckan",
        reference="272027-aed",
        pick_format="csv",
        pick_tag="自治体標準ODS",
    )
    result = run(session, settings, catalog)
    assert result.outcome == "published"
    assert published(session) == (result.version_id, 4)
    assert "/files/272027_aed.csv" in host.paths()
    assert "/files/272027_aed.xlsx" not in host.paths()


def test_a_ckan_dataset_without_the_tag_is_a_failure(session, settings, catalog, host):
    host.ckan_dataset("272027-aed", [{"format": "CSV", "url": f"{host.base}/a.csv"}], tags=[])
    add_source(
        session,
        settings,
        catalog,
        host.base,
        kind="ckan",
        reference="272027-aed",
        pick_tag="AED設置箇所",
    )
    result = run(session, settings, catalog)
    assert (result.outcome, result.message_en) == (
        "failed",
        "The CKAN dataset does not carry the tag 'AED設置箇所'",
    )


def test_the_bodik_api_stand_in_feeds_a_dataset(session, settings, catalog, host, monkeypatch):
    monkeypatch.setattr("mapsvc.services.harvest.catalogues.BODIK_PAGE", 3)  # several pages
    records = [
        {
            "ID": f"A{i}",
            "name": f"岸和田AED{i}",
            "address": "岸和田市岸城町7-1",
            "lat": 34.46 + i / 2000,
            "lon": 135.37,
        }
        for i in range(7)
    ]
    host.bodik("aed", {KISHIWADA: records, "271403": records[:1]})
    add_source(session, settings, catalog, host.base, kind="bodik", reference="aed")
    result = run(session, settings, catalog)
    assert result.outcome == "published"
    assert published(session) == (result.version_id, 7)
    pages = [p for p in host.paths() if p.startswith("/aed?")]
    assert len(pages) == 3 and all(f"municipalityCode={KISHIWADA}" in p for p in pages)
    assert run(session, settings, catalog).outcome == "unchanged"  # same records, same hash


def test_a_source_is_checked_like_an_upload_before_it_is_saved(settings):
    policy = FetchPolicy.from_settings(settings)
    with pytest.raises(InvalidParameter, match="CRS"):
        source_definition(
            policy, kind="file", url="https://example.jp/a.csv", options={"crs": "nonsense"}
        )
    with pytest.raises(InvalidParameter, match="schedule"):
        source_definition(policy, kind="file", url="https://example.jp/a.csv", schedule="sometimes")
    with pytest.raises(InvalidParameter, match="https only"):
        source_definition(policy, kind="file", url="http://example.jp/a.csv")
    with pytest.raises(InvalidParameter, match="reference"):
        source_definition(policy, kind="ckan", url="https://example.jp/")
    made = source_definition(
        policy,
        kind="file",
        url="https://example.jp/a.csv",
        schedule="30 6 * * 1",
        options={"encoding": "cp932"},
    )
    assert made.options == {"encoding": "cp932"}


def test_a_file_already_uploaded_by_a_clerk_makes_no_second_version(
    session, settings, catalog, host
):
    content = aed_csv(4)
    uploads.upload(
        session,
        settings,
        layer=catalog["aed"],
        municipality=KISHIWADA,
        source=SourceFile(content, "aed.csv", "auto"),
        request=uploads.upload_request(publish=True),
        actor="clerk",
    )
    host.file("/aed.csv", content)
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    first = run(session, settings, catalog)
    assert (first.outcome, versions(session)) == ("unchanged", 1)
    assert run(session, settings, catalog).http_status == 304  # its validators were kept


def test_the_fetch_history_keeps_the_latest_of_each_source(session, settings, catalog, host):
    host.file("/aed.csv", aed_csv(3))
    add_source(session, settings, catalog, f"{host.base}/aed.csv")
    source_id = session.execute(text("SELECT id FROM harvest_source")).scalar_one()
    session.execute(
        text(
            "INSERT INTO harvest_fetch (source_id, at, outcome) SELECT :s, "
            "now() - make_interval(days => n), 'unchanged' FROM generate_series(1, :n) n"
        ),
        {"s": source_id, "n": KEEP_FETCHES + 5},
    )
    newest = run(session, settings, catalog)
    kept = session.execute(
        text("SELECT outcome, at FROM harvest_fetch WHERE source_id = :s ORDER BY at DESC"),
        {"s": source_id},
    ).all()
    assert len(kept) == KEEP_FETCHES
    assert kept[0].outcome == newest.outcome == "published"
    oldest_kept = harvest.now(session) - timedelta(days=KEEP_FETCHES - 1)
    assert kept[-1].at == oldest_kept  # the five oldest went


def test_a_real_bodik_file_behind_a_ckan_catalogue_month_after_month(
    session, settings, catalog, host
):
    """富田林市's AED list as BODIK publishes it (77 rows, a line break inside a quoted field;
    ``data/demo/aed``, CC BY 4.0, see its README), already uploaded by hand (the demo): the
    source takes over without a second version; next month five AEDs are gone (published on
    its own), the month after half of them (waits for a person)."""
    tondabayashi = "272141"
    settings = settings.model_copy(
        update={"imports": settings.imports.model_copy(update={"max_upload_bytes": 200_000})}
    )
    content = (PROJECT / "data/demo/aed/272141_tondabayashi_aed.csv").read_bytes()
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
    assert len(rows) == 77

    def month(kept: list[list[str]]) -> bytes:
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerows([header, *kept])
        return out.getvalue().encode("utf-8")

    host.file("/dataset/272141_aed.csv", content)
    host.ckan_dataset(
        "272141_aed",
        [
            {
                "name": "AED設置箇所一覧",
                "format": "CSV",
                "url": f"{host.base}/dataset/272141_aed.csv",
            }
        ],
        tags=["自治体標準ODS"],
    )
    definition = source_definition(
        FetchPolicy.from_settings(settings),
        kind="ckan",
        url=host.base,
        reference="272141_aed",
        pick_format="CSV",
        pick_tag="自治体標準ODS",
    )
    manage.set_source(
        session, layer=catalog["aed"], municipality=tondabayashi, definition=definition, actor="t"
    )

    def fetch_now():
        return manage.run_now(session, settings, catalog, "aed", tondabayashi)

    def published_count() -> int:
        return session.execute(
            text(
                "SELECT v.feature_count FROM dataset d JOIN version v ON v.id = d.current_version_id"
                " WHERE d.layer_id = 'aed' AND d.municipality_code = :m"
            ),
            {"m": tondabayashi},
        ).scalar_one()

    by_hand = published_count()
    assert by_hand >= 70  # the demo's upload of the very same file
    same = fetch_now()
    assert (same.outcome, same.http_status) == ("unchanged", 200)  # no second version of it
    assert published_count() == by_hand

    host.file("/dataset/272141_aed.csv", month(rows[:-5]))
    fewer = fetch_now()
    assert fewer.outcome == "published"
    assert published_count() == by_hand - 5

    host.file("/dataset/272141_aed.csv", month(rows[:38]))
    halved = fetch_now()
    assert halved.outcome == "staged"
    assert published_count() == by_hand - 5
    assert f"of the {by_hand - 5} published features would disappear" in (halved.message_en or "")
