"""The portal's routes get their person and municipality only through the access dependencies.

Structure, not journeys (``test_portal`` walks those): a route added tomorrow that takes a
municipality from its path by hand, or forgets to ask for a signed-in person, fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from mapsvc.staff.access import OPEN_PATHS, administrator, signed_in
from mapsvc.staff.routers import ROUTERS


def calls(dependant: Dependant) -> Iterator[object]:
    """Every dependency callable a route solves, however deep."""
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def staff_routes() -> list[APIRoute]:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert all(r.path.startswith("/staff/") for r in routes)
    return routes


def test_every_staff_route_but_the_open_ones_asks_for_the_signed_in_person():
    routes = staff_routes()
    assert len(routes) > 20
    for route in routes:
        needs_person = signed_in in set(calls(route.dependant))
        assert needs_person != route.path.startswith(OPEN_PATHS), route.path


def test_a_municipality_reaches_a_route_only_through_its_action_dependency():
    for route in staff_routes():
        if "{municipality}" not in route.path:
            continue
        own = inspect.signature(route.endpoint).parameters
        assert "municipality" not in own, f"{route.path} takes the code by hand"
        checked = [
            d for d in route.dependant.dependencies if d.call.__qualname__.endswith("allowed")
        ]
        assert checked, f"{route.path} does not check the person's role for the municipality"


def test_every_administration_route_asks_for_an_administrator():
    for route in staff_routes():
        if route.path.startswith("/staff/admin/"):
            assert administrator in set(calls(route.dependant)), route.path
