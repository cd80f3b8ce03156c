"""The two page statements (the fast constant-shaped text and the Core statement) agree.

``select_page`` answers the common request with a text statement for speed and everything else
with a Core statement; both spell the page's WHERE clause, so hypothesis holds them to the same
features for random boxes, owners, attribute filters, CRSs and pages, and also against the same
box and equality written as a CQL2 filter (a third spelling: the filter translator's).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapsvc.db import features
from mapsvc.db.features import FeatureQuery
from mapsvc.db.filters import to_condition
from mapsvc.geo.crs import SUPPORTED
from mapsvc.services.cql2 import parse_filter

# Demo layers with published data, and flags each one carries.
LAYERS = {
    "evacuation_sites": ("flood", "tsunami", "landslide", "earthquake"),
    "shelters": ("is_welfare", "same_as_evacuation_site"),
}
OWNERS = [None, "271004", "271403", "272027", "272116", "273619", "273813"]  # Osaka, Sakai, …
OSAKA = (135.09, 34.27, 135.75, 35.05)


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float] | None:
    if draw(st.booleans()):
        return None
    x0, y0 = draw(st.floats(OSAKA[0], OSAKA[2])), draw(st.floats(OSAKA[1], OSAKA[3]))
    width, height = draw(st.floats(1e-4, 0.4)), draw(st.floats(1e-4, 0.4))
    return (x0, y0, x0 + width, y0 + height)


@st.composite
def fast_queries(draw: st.DrawFn) -> FeatureQuery:
    """Queries the fast path answers (box in CRS84, owner, equality, any output CRS)."""
    layer = draw(st.sampled_from(sorted(LAYERS)))
    flags = draw(st.dictionaries(st.sampled_from(LAYERS[layer]), st.booleans(), max_size=2))
    return FeatureQuery(
        layer_id=layer,
        limit=draw(st.integers(1, 300)),
        offset=draw(st.integers(0, 400)),
        bbox=draw(boxes()),
        municipality_code=draw(st.sampled_from(OWNERS)),
        equals=flags,
        crs=draw(st.sampled_from(SUPPORTED)),
    )


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
@given(query=fast_queries())
def test_fast_and_core_statements_return_the_same_page(session, catalog, query):
    assert features.fits_fast_path(query)
    fast = [tuple(row) for row in features._fast_page(session, query)]
    core = [tuple(row) for row in features._core_page(session, query)]
    assert fast == core
    text = _as_cql2(query)
    if text is not None:  # the same box and equality as a filter, through the CQL2 translator
        layer = catalog[query.layer_id]
        condition = to_condition(parse_filter(text, "cql2-text"), layer)
        filtered = FeatureQuery(
            layer_id=query.layer_id,
            limit=query.limit,
            offset=query.offset,
            municipality_code=query.municipality_code,
            crs=query.crs,
            condition=condition,
        )
        assert [tuple(row) for row in features._core_page(session, filtered)] == fast


@pytest.mark.db
def test_the_generated_queries_find_something(session):
    """The property above is not vacuous: a typical query returns features on both paths."""
    query = FeatureQuery(
        layer_id="evacuation_sites",
        limit=50,
        bbox=(135.3, 34.4, 135.6, 34.8),
        municipality_code="271004",
        equals={"flood": True},
    )
    fast = features._fast_page(session, query)
    assert len(fast) == 50
    assert [tuple(r) for r in fast] == [tuple(r) for r in features._core_page(session, query)]
