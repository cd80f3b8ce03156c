"""The page statement returns exactly the published features the query asks for.

``select_page`` looks up each dataset's current version through a LATERAL subquery (for its
plan); hypothesis holds it to the plain definition of a page over the ``published_feature`` view
for random boxes, owners, wards, attribute filters, sort keys, selected properties, CRSs and pages,
and to the same box and equality written as a CQL2 filter (the filter translator's spelling).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Text, cast, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from mapsvc.db import features
from mapsvc.db.features import FeatureQuery, f, public_id
from mapsvc.db.filters import to_condition
from mapsvc.db.models import MunicipalityRow
from mapsvc.geo.crs import SUPPORTED
from mapsvc.services.cql2 import parse_filter

# Demo layers with published data, a flag each one carries, and attributes to sort by.
LAYERS = {
    "evacuation_sites": (
        ("flood", "tsunami", "landslide", "earthquake"),
        ("name", "address", "capacity"),
    ),
    "shelters": (("is_welfare", "same_as_evacuation_site"), ("name", "address")),
}
OWNERS = [None, "271004", "271403", "272027", "272116", "273619", "273813"]  # Osaka, Sakai, …
WARDS = [None, "271276", "271411"]  # Kita-ku (Osaka), Sakai-ku (Sakai)
OSAKA = (135.09, 34.27, 135.75, 35.05)


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float] | None:
    if draw(st.booleans()):
        return None
    x0, y0 = draw(st.floats(OSAKA[0], OSAKA[2])), draw(st.floats(OSAKA[1], OSAKA[3]))
    width, height = draw(st.floats(1e-4, 0.4)), draw(st.floats(1e-4, 0.4))
    return (x0, y0, x0 + width, y0 + height)


@st.composite
def queries(draw: st.DrawFn) -> FeatureQuery:
    layer = draw(st.sampled_from(sorted(LAYERS)))
    flags, attributes = LAYERS[layer]
    keys = draw(st.lists(st.sampled_from(attributes), unique=True, max_size=2))
    selected = draw(st.none() | st.lists(st.sampled_from(attributes), min_size=1, unique=True))
    return FeatureQuery(
        layer_id=layer,
        limit=draw(st.integers(1, 300)),
        offset=draw(st.integers(0, 400)),
        bbox=draw(boxes()),
        municipality_code=draw(st.sampled_from(OWNERS)),
        within_code=draw(st.sampled_from(WARDS)),
        equals=draw(st.dictionaries(st.sampled_from(flags), st.booleans(), max_size=2)),
        sortby=tuple((key, draw(st.booleans())) for key in keys),
        properties=None if selected is None else tuple(selected),
        crs=draw(st.sampled_from(SUPPORTED)),
    )


def _by_definition(session: Session, query: FeatureQuery) -> list[tuple[str, str, str]]:
    """The page as the view defines it: the published features matching, in order."""
    geometry = f.geom if query.crs.srid == 4326 else func.ST_Transform(f.geom, query.crs.srid)
    if query.crs.north_first:
        geometry = func.ST_FlipCoordinates(geometry)
    properties = (
        cast(f.properties, Text)
        if query.properties is None
        else cast(
            func.jsonb_strip_nulls(
                func.jsonb_build_object(
                    *[x for k in query.properties for x in (literal(k), f.properties[k])]
                )
            ),
            Text,
        )
    )
    statement = select(
        public_id(), func.ST_AsGeoJSON(geometry, query.crs.decimals, 0), properties
    ).where(f.layer_id == query.layer_id)
    if query.bbox is not None:
        statement = statement.where(
            func.ST_Intersects(f.geom, func.ST_MakeEnvelope(*query.bbox, 4326))
        )
    if query.municipality_code is not None:
        statement = statement.where(f.municipality_code == query.municipality_code)
    if query.within_code is not None:
        boundary = select(MunicipalityRow.boundary).where(MunicipalityRow.code == query.within_code)
        statement = statement.where(func.ST_Intersects(f.geom, boundary.scalar_subquery()))
    if query.equals:
        statement = statement.where(f.properties.op("@>")(type_coerce(query.equals, JSONB)))
    order = [f.properties[k].desc() if down else f.properties[k].asc() for k, down in query.sortby]
    statement = statement.order_by(*order, f.id).limit(query.limit).offset(query.offset)
    return [tuple(row) for row in session.execute(statement)]


def _as_cql2(query: FeatureQuery) -> str | None:
    terms = [f"{name} = {str(value).upper()}" for name, value in query.equals.items()]
    if query.bbox is not None:
        terms.append("S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))".format(*query.bbox))
    return " AND ".join(terms) or None


@pytest.mark.db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the session only reads
)
@given(query=queries())
def test_the_page_statement_returns_the_published_features_asked_for(session, catalog, query):
    page = [tuple(row) for row in features.select_page(session, query)]
    assert page == _by_definition(session, query)
    text = _as_cql2(query)
    if text is not None:  # the same box and equality as a filter, through the CQL2 translator
        condition = to_condition(parse_filter(text, "cql2-text"), catalog[query.layer_id])
        filtered = FeatureQuery(
            layer_id=query.layer_id,
            limit=query.limit,
            offset=query.offset,
            municipality_code=query.municipality_code,
            within_code=query.within_code,
            sortby=query.sortby,
            properties=query.properties,
            crs=query.crs,
            condition=condition,
        )
        assert [tuple(row) for row in features.select_page(session, filtered)] == page


@pytest.mark.db
def test_the_generated_queries_find_something(session):
    """The property above is not vacuous: a typical query returns a full page."""
    query = FeatureQuery(
        layer_id="evacuation_sites",
        limit=50,
        bbox=(135.3, 34.4, 135.6, 34.8),
        municipality_code="271004",
        equals={"flood": True},
    )
    page = features.select_page(session, query)
    assert len(page) == 50
    assert [tuple(r) for r in page] == _by_definition(session, query)


@pytest.mark.db
def test_a_box_outside_its_crs_matches_nothing(session):
    query = FeatureQuery(layer_id="evacuation_sites", limit=10, nothing=True)
    assert features.select_page(session, query) == []
    assert query.filtered  # and is not counted as the whole layer
