"""OGC API Features Part 3: CQL2 text and JSON filters, queryables, and their bounds."""

import json

import pytest
from sqlalchemy import text

from tests.support.staging import upload

pytestmark = pytest.mark.db

URL = "/api/collections/schools/items"
CITY_HALL = "POINT(135.3716 34.4603)"


def ids(client, **params):
    response = client.get(URL, params=params | {"limit": 5000})
    assert response.status_code == 200, response.json()
    return {f["id"] for f in response.json()["features"]}


def expected(session, where: str, **params):
    return set(
        session.execute(
            text(
                "SELECT municipality_code || '-' || feature_key FROM published_feature "
                f"WHERE layer_id = 'schools' AND {where}"
            ),
            params,
        ).scalars()
    )


def test_comparison_like_in_and_logic_match_sql(client, session):
    found = ids(
        client,
        filter="name LIKE '%小学校' AND school_class IN ('16001', '16002') AND NOT (municipality_code = '272027')",
    )
    assert found == expected(
        session,
        "properties->>'name' LIKE '%小学校' AND properties->>'school_class' "
        "IN ('16001','16002') AND properties->>'municipality_code' <> '272027'",
    )
    assert 500 < len(found) < 1000


def test_spatial_functions_in_text_and_json(client, session):
    near = ids(client, filter=f"S_DWITHIN(geometry, {CITY_HALL}, 1000, meters)")
    assert near == expected(
        session, "ST_DWithin(geom::geography, ST_Point(135.3716, 34.4603, 4326)::geography, 1000)"
    )
    as_json = json.dumps(
        {
            "op": "s_dwithin",
            "args": [
                {"property": "geometry"},
                {"type": "Point", "coordinates": [135.3716, 34.4603]},
                1000,
            ],
        }
    )
    assert ids(client, filter=as_json, **{"filter-lang": "cql2-json"}) == near
    box = "POLYGON((135.36 34.44, 135.40 34.44, 135.40 34.48, 135.36 34.48, 135.36 34.44))"
    inside = ids(client, filter=f"S_INTERSECTS(geometry, {box})")
    assert inside == expected(
        session, "ST_Intersects(geom, ST_MakeEnvelope(135.36, 34.44, 135.40, 34.48, 4326))"
    )
    assert inside  # the box is not empty, so the comparisons below mean something
    assert (
        ids(client, filter="S_INTERSECTS(geometry, BBOX(135.36, 34.44, 135.40, 34.48))") == inside
    )
    swapped = "POLYGON((34.44 135.36, 34.44 135.40, 34.48 135.40, 34.48 135.36, 34.44 135.36))"
    assert (
        ids(
            client,
            filter=f"S_WITHIN(geometry, {swapped})",
            **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
        )
        == inside
    )


def test_typed_comparisons_use_the_catalog_types(client):
    response = client.get(
        "/api/collections/evacuation_sites/items",
        params={
            "filter": "tsunami = TRUE AND flood = FALSE",
            "municipality": "272027",
            "limit": 500,
        },
    )
    features = response.json()["features"]
    assert features and all(
        f["properties"]["tsunami"] and not f["properties"]["flood"] for f in features
    )


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"filter": "password = 'x'"}, "Unknown property"),
        ({"filter": "name LIKE"}, "Invalid filter"),
        ({"filter": "name = 'a'", "filter-lang": "sql"}, "filter-lang"),
        ({"filter": " OR ".join(["name = 'a'"] * 40)}, "terms"),
        ({"filter": "x" * 5000}, "longer"),
        ({"filter": f"S_DWITHIN(geometry, {CITY_HALL}, 500, parsecs)"}, "Invalid filter"),
        ({"filter": f"S_DWITHIN(geometry, {CITY_HALL}, 500000, meters)"}, "100 km"),
        ({"filter": "name = 'a'", "filter-crs": "EPSG:1"}, "filter-crs"),
        ({"filter": "name = '1'); DROP TABLE feature; --"}, "Invalid filter"),
    ],
)
def test_bad_or_hostile_filters_are_400(client, session, params, fragment):
    response = client.get(URL, params=params)
    assert response.status_code == 400
    assert session.execute(text("SELECT count(*) FROM feature")).scalar_one() > 0
    assert fragment in response.json()["message_en"]


def test_queryables_list_catalog_attributes(client):
    response = client.get("/api/collections/evacuation_sites/queryables")
    assert response.headers["content-type"].startswith("application/schema+json")
    properties = response.json()["properties"]
    assert (
        properties["tsunami"]["type"] == "boolean" and properties["capacity"]["type"] == "integer"
    )
    assert "geometry" in properties


def test_a_quoted_literal_is_data_not_sql(client):
    response = client.get(URL, params={"filter": "name = ')); DROP TABLE feature; --'"})
    assert response.status_code == 200 and response.json()["numberReturned"] == 0


@pytest.mark.parametrize(
    ("layer", "condition", "named"),
    [
        ("schools", "name > 5", "name is text"),
        ("schools", "name = true", "name is text"),
        ("schools", "name = DATE('2020-01-01')", "name is text"),
        ("evacuation_sites", "flood = 'x'", "flood is boolean"),
        ("evacuation_sites", "capacity = 'abc'", "capacity is number"),
        ("evacuation_sites", "capacity BETWEEN 1 AND 'a'", "capacity is number"),
        ("evacuation_sites", "capacity IN (1, 'two')", "capacity is number"),
        ("schools", "geometry LIKE 'a'", "geometry is geometry"),
        ("schools", "geometry = 5", "geometry is geometry"),
        ("schools", "S_INTERSECTS(name, POINT(135 34))", "spatial functions compare geometries"),
        ("evacuation_sites", "capacity > 99999999999999999999999", "too large"),
    ],
)
def test_type_mismatches_are_400s_that_name_the_property(client, layer, condition, named):
    response = client.get(f"/api/collections/{layer}/items", params={"filter": condition})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_parameter" and named in body["detail"]
    assert body["message_ja"].startswith("filter が正しくありません")


def test_a_dwithin_distance_that_is_not_a_number_is_a_400(client):
    tree = {
        "op": "s_dwithin",
        "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [135.5, 34.6]}, "x"],
    }
    response = client.get(URL, params={"filter": json.dumps(tree), "filter-lang": "cql2-json"})
    assert response.status_code == 400 and "distance must be a number" in response.json()["detail"]


def test_a_point_outside_the_filter_crs_is_a_400_naming_the_crs(client):
    response = client.get(
        URL,
        params={
            "filter": "S_INTERSECTS(geometry, POINT(1e9 1e9))",
            "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/6674",
        },
    )
    assert response.status_code == 400 and "EPSG/0/6674" in response.json()["detail"]


def test_flags_compare_as_booleans_and_conditional_values_match_neither(client, keys):
    sites = [("A", "1"), ("B", ""), ("C", "△")]  # △: "conditionally" (条件付き)
    body = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [135.37 + i / 1000, 34.46]},
                    "properties": {"名称": name, "洪水": flood},
                }
                for i, (name, flood) in enumerate(sites)
            ],
        },
        ensure_ascii=False,
    ).encode()
    url = "/api/datasets/evacuation_sites/272027"
    published = upload(client, keys["kishiwada"], url, body, "sites.geojson", publish=True)
    assert published.status_code in (200, 201), published.text

    def names(condition: str) -> set[str]:
        params = {"filter": condition, "municipality": "272027", "limit": 100}
        found = client.get("/api/collections/evacuation_sites/items", params=params)
        assert found.status_code == 200, found.text
        return {f["properties"]["name"] for f in found.json()["features"]}

    assert names("flood = true") == {"A"}
    assert names("flood = false") == {"B"}
    assert names("NOT (flood = true)") == {"B"}


@pytest.mark.parametrize("value", ["1e300", "nan", "inf", "-1e300"])
def test_attribute_values_beyond_any_number_are_400s(client, value):
    response = client.get("/api/collections/evacuation_sites/items", params={"capacity": value})
    assert response.status_code == 400 and "capacity" in response.json()["detail"]


def test_a_property_named_fifty_one_times_is_selected_once(client):
    response = client.get(URL, params={"properties": ",".join(["name"] * 51), "limit": 1})
    assert response.status_code == 200
    assert list(response.json()["features"][0]["properties"]) == ["name"]


def test_between_in_cql2_json_takes_the_standard_three_arguments(client):
    as_text = ids(client, filter="name BETWEEN '岸和田' AND '岸和田市立山滝小学校'")
    tree = {"op": "between", "args": [{"property": "name"}, "岸和田", "岸和田市立山滝小学校"]}
    assert (
        as_text and ids(client, filter=json.dumps(tree), **{"filter-lang": "cql2-json"}) == as_text
    )
