"""Property-based CQL2: generated filters over a layer's queryables, written as text and as JSON.

Every filter, well-typed or not, answers 200 or a 400 in the documented error shape (never a
500); when both spellings of one filter are answered, they match the same features.
"""

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.db

LAYER = "evacuation_sites"
URL = f"/api/collections/{LAYER}/items"
PROPERTIES = ["name", "address", "capacity", "flood", "tsunami", "source_no", "geometry", "nope"]
COMPARE = ["=", "<>", "<", "<=", ">", ">="]

texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
literals = st.one_of(
    texts, numbers, st.booleans(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))
)
coordinates = st.one_of(
    st.floats(min_value=-200, max_value=200, allow_nan=False),
    st.floats(min_value=-1e10, max_value=1e10, allow_nan=False),
)
points = st.tuples(coordinates, coordinates)


def text_literal(value):
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"DATE('{value.isoformat()}')"
    return repr(value)


def json_literal(value):
    return {"date": value.isoformat()} if isinstance(value, dt.date) else value


# Mostly literals of the property's own type (so that many filters reach the database), else
# anything at all.
FITTING = {
    "name": texts,
    "address": texts,
    "capacity": st.integers(-(10**6), 10**6),
    "source_no": st.integers(-(10**6), 10**6),
    "flood": st.booleans(),
    "tsunami": st.booleans(),
}


def predicate(draw):
    """One predicate as (CQL2 text, CQL2 JSON)."""
    name = draw(st.sampled_from(PROPERTIES))
    prop = {"property": name}
    kind = draw(st.sampled_from(["compare", "like", "between", "in", "null", "spatial", "within"]))
    literals_here = (
        st.one_of(FITTING[name], FITTING[name], FITTING[name], literals)
        if name in FITTING
        else literals
    )
    if kind == "compare":
        op, value = draw(st.sampled_from(COMPARE)), draw(literals_here)
        return f"{name} {op} {text_literal(value)}", {"op": op, "args": [prop, json_literal(value)]}
    if kind == "like":
        pattern = draw(texts)
        return f"{name} LIKE {text_literal(pattern)}", {"op": "like", "args": [prop, pattern]}
    if kind == "between":
        low, high = draw(literals_here), draw(literals_here)
        return (
            f"{name} BETWEEN {text_literal(low)} AND {text_literal(high)}",
            {"op": "between", "args": [prop, json_literal(low), json_literal(high)]},
        )
    if kind == "in":
        options = draw(st.lists(literals_here, min_size=1, max_size=3))
        return (
            f"{name} IN ({', '.join(map(text_literal, options))})",
            {"op": "in", "args": [prop, [json_literal(o) for o in options]]},
        )
    if kind == "null":
        return f"{name} IS NULL", {"op": "isNull", "args": [prop]}
    x, y = draw(st.one_of(st.tuples(st.floats(135.3, 135.6), st.floats(34.4, 34.8)), points))
    point = {"type": "Point", "coordinates": [x, y]}
    if kind == "spatial":
        return (
            f"S_INTERSECTS({name}, POINT({x!r} {y!r}))",
            {"op": "s_intersects", "args": [prop, point]},
        )
    distance = draw(numbers)
    return (
        f"S_DWITHIN({name}, POINT({x!r} {y!r}), {distance!r}, meters)",
        {"op": "s_dwithin", "args": [prop, point, distance]},
    )


@st.composite
def filters(draw, depth: int = 2):
    if depth == 0 or draw(st.booleans()):
        return predicate(draw)
    combine = draw(st.sampled_from(["and", "or", "not"]))
    left = draw(filters(depth - 1))
    if combine == "not":
        return f"NOT ({left[0]})", {"op": "not", "args": [left[1]]}
    right = draw(filters(depth - 1))
    return (
        f"({left[0]}) {combine.upper()} ({right[0]})",
        {"op": combine, "args": [left[1], right[1]]},
    )


def answer(client, condition: str, language: str):
    response = client.get(
        URL, params={"filter": condition, "filter-lang": language, "limit": 10000}
    )
    assert response.status_code in (200, 400), (condition, response.status_code, response.text)
    body = response.json()
    if response.status_code == 400:
        assert body["code"] == "invalid_parameter" and body["message_ja"] and body["message_en"]
        return None
    return {feature["id"] for feature in body["features"]}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=filters())
def test_every_filter_is_answered_and_both_spellings_agree(client, generated):
    as_text, as_json = generated
    from_text = answer(client, as_text, "cql2-text")
    from_json = answer(client, json.dumps(as_json), "cql2-json")
    if from_text is not None and from_json is not None:
        assert from_text == from_json, (as_text, as_json)
