"""Property-based CQL2: generated filters over a layer's queryables, written as text and as JSON.

Every filter, well-typed or not, answers 200 or a 400 in the documented error shape (never a
500); when both spellings of one filter are answered, they match the same features. Every
well-typed filter is answered 200, in both spellings, with exactly the features a plain Python
reading of the same filter picks from the whole layer.
"""

import datetime as dt
import json
import operator
import re
from decimal import Decimal

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


# Well-typed filters, each with its meaning in Python (SQL's three-valued logic: None is
# unknown). Text is compared for (in)equality only: its order is the database's collation.
INTEGERS = ["capacity", "source_no"]
TEXTS = ["name", "address"]
FLAGS = ["flood", "tsunami", "earthquake"]
WILDCARDS = re.compile(r"[%_\\]")  # LIKE's own characters, kept out of generated patterns


def typed_value(feature: dict, name: str):
    """A property as the filter reads it: flags true/false (anything else unknown), numbers."""
    value = feature["properties"].get(name)
    if value is None:
        return None
    if name in FLAGS:
        return {True: True, False: False, "true": True, "false": False}.get(value)
    if name in INTEGERS:
        return Decimal(str(value))
    return value


def known(*values) -> bool:
    return all(value is not None for value in values)


def like(pattern: str):
    regex = re.compile(
        "".join(".*" if p == "%" else re.escape(p) for p in re.split("(%)", pattern))
    )
    return lambda value: None if value is None else regex.fullmatch(value) is not None


@st.composite
def typed_predicate(draw, seen: dict[str, list]):
    """(CQL2 text, CQL2 JSON, what it means for one feature)."""
    kind = draw(
        st.sampled_from(["integer", "between", "in", "text", "like", "flag", "null", "bbox"])
    )
    integers = st.one_of(
        st.sampled_from(seen["capacity"] + seen["source_no"] or [0]), st.integers(-10, 10**5)
    )
    if kind in ("integer", "between", "in"):
        name = draw(st.sampled_from(INTEGERS))
        prop = {"property": name}
        if kind == "integer":
            op, number = draw(st.sampled_from(COMPARE)), draw(integers)
            test = OPERATORS[op]
            return (
                f"{name} {op} {number}",
                {"op": op, "args": [prop, number]},
                lambda f: test(v, Decimal(number)) if known(v := typed_value(f, name)) else None,
            )
        if kind == "between":
            low, high = sorted((draw(integers), draw(integers)))
            return (
                f"{name} BETWEEN {low} AND {high}",
                {"op": "between", "args": [prop, low, high]},
                lambda f: low <= v <= high if known(v := typed_value(f, name)) else None,
            )
        options = draw(st.lists(integers, min_size=1, max_size=3))
        return (
            f"{name} IN ({', '.join(map(str, options))})",
            {"op": "in", "args": [prop, options]},
            lambda f: v in options if known(v := typed_value(f, name)) else None,
        )
    if kind in ("text", "like"):
        name = draw(st.sampled_from(TEXTS))
        prop = {"property": name}
        value = draw(st.one_of(st.sampled_from(seen[name] or [""]), texts))
        if kind == "text":
            op = draw(st.sampled_from(["=", "<>"]))
            return (
                f"{name} {op} {text_literal(value)}",
                {"op": op, "args": [prop, value]},
                lambda f: (v == value) == (op == "=") if known(v := typed_value(f, name)) else None,
            )
        plain = WILDCARDS.sub("", value)
        start, end = sorted(draw(st.tuples(*[st.integers(0, len(plain))] * 2)))
        pattern = draw(st.sampled_from(["{}%", "%{}", "%{}%", "{}"])).format(plain[start:end])
        return (
            f"{name} LIKE {text_literal(pattern)}",
            {"op": "like", "args": [prop, pattern]},
            lambda f: like(pattern)(typed_value(f, name)),
        )
    if kind == "flag":
        name, op, flag = (
            draw(st.sampled_from(FLAGS)),
            draw(st.sampled_from(["=", "<>"])),
            draw(st.booleans()),
        )
        return (
            f"{name} {op} {text_literal(flag)}",
            {"op": op, "args": [{"property": name}, flag]},
            lambda f: (v == flag) == (op == "=") if known(v := typed_value(f, name)) else None,
        )
    if kind == "null":
        name = draw(st.sampled_from(INTEGERS + TEXTS + FLAGS))
        return (
            f"{name} IS NULL",
            {"op": "isNull", "args": [{"property": name}]},
            lambda f: typed_value(f, name) is None,
        )
    # Text only: pygeofilter's CQL2-JSON reader takes a bbox's numbers in the wrong order.
    xs = sorted(draw(st.tuples(st.floats(135.1, 135.8), st.floats(135.1, 135.8))))
    ys = sorted(draw(st.tuples(st.floats(34.2, 35.0), st.floats(34.2, 35.0))))
    box = f"BBOX({xs[0]!r}, {ys[0]!r}, {xs[1]!r}, {ys[1]!r})"
    return (
        f"S_INTERSECTS(geometry, {box})",
        None,
        lambda f: (
            xs[0] <= f["geometry"]["coordinates"][0] <= xs[1]
            and ys[0] <= f["geometry"]["coordinates"][1] <= ys[1]
        ),
    )


# Python's own comparisons, not the server's table: the reading must not share its mistakes.
OPERATORS = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le}
OPERATORS |= {">": operator.gt, ">=": operator.ge}


def both(left, right, combine):
    def meaning(f):
        a, b = left(f), right(f)
        if combine == "and":
            return False if False in (a, b) else (None if None in (a, b) else True)
        return True if True in (a, b) else (None if None in (a, b) else False)

    return meaning


@st.composite
def typed_filters(draw, seen: dict[str, list], depth: int = 2):
    if depth == 0 or draw(st.booleans()):
        return draw(typed_predicate(seen))
    combine = draw(st.sampled_from(["and", "or", "not"]))
    # NOT over a single predicate only: see test_not_over_a_combination_is_read below.
    left_text, left_json, left = draw(typed_filters(seen, 0 if combine == "not" else depth - 1))
    if combine == "not":
        return (
            f"NOT ({left_text})",
            left_json and {"op": "not", "args": [left_json]},
            lambda f: None if (a := left(f)) is None else not a,
        )
    right_text, right_json, right = draw(typed_filters(seen, depth - 1))
    return (
        f"({left_text}) {combine.upper()} ({right_text})",
        left_json and right_json and {"op": combine, "args": [left_json, right_json]},
        both(left, right, combine),
    )


@pytest.fixture
def layer_features(client) -> tuple[list[dict], dict[str, list]]:
    """Every published feature of the layer, and the values its integer and text properties hold."""
    body = client.get(URL, params={"limit": 10000}).json()
    features = body["features"]
    assert body["numberMatched"] == len(features) > 1000
    kinds = dict.fromkeys(INTEGERS, int) | dict.fromkeys(TEXTS, str)
    seen = {
        name: sorted({v for f in features if isinstance(v := f["properties"].get(name), kind)})
        for name, kind in kinds.items()
    }
    return features, seen


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # The same 100 filters every run: one CI run of three failed with "Inconsistent data
    # generation" and no example to show (cause not found yet; see the closing note). A failure
    # must be one anybody can replay, not a coin toss in CI.
    derandomize=True,
)
@given(data=st.data())
def test_well_typed_filters_are_accepted_and_pick_what_they_say(client, layer_features, data):
    features, seen = layer_features
    as_text, as_json, meaning = data.draw(typed_filters(seen))
    expected = {f["id"] for f in features if meaning(f) is True}
    assert answer(client, as_text, "cql2-text") == expected, as_text
    if as_json is not None:
        assert answer(client, json.dumps(as_json), "cql2-json") == expected, as_json


@pytest.mark.xfail(strict=True, reason="pygeofilter's CQL2 text grammar: NOT takes one predicate")
def test_not_over_a_combination_is_read(client):
    """Valid CQL2 text, refused today with 400; strict: passes (and must be un-marked) once fixed."""
    assert answer(client, "NOT ((capacity > 100) AND (flood = TRUE))", "cql2-text") is not None


@pytest.mark.xfail(strict=True, reason="pygeofilter's CQL2-JSON reader: bbox numbers misordered")
def test_a_json_bbox_picks_what_the_text_bbox_picks(client):
    box = [135.4, 34.6, 135.6, 34.8]
    as_text = f"S_INTERSECTS(geometry, BBOX({', '.join(map(str, box))}))"
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": box}]}
    from_text = answer(client, as_text, "cql2-text")
    assert from_text and answer(client, json.dumps(as_json), "cql2-json") == from_text
