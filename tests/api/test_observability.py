"""Readiness and metrics, on a live server (the publication watch on, as deployed)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.server import live_server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.db


def test_readyz_and_metrics_by_route_with_cache_hits_and_the_pool(test_settings, demo):
    url = test_settings.database.url.get_secret_value()
    with live_server(url) as base, httpx.Client(base_url=base) as http:
        assert http.get("/readyz").json() == {"status": "ready"}
        for _ in range(3):  # the second and third are response-cache hits
            assert (
                http.get("/api/collections/evacuation_sites/items", params={"limit": 2}).status_code
                == 200
            )
        http.get("/api/collections/no_such_layer/items")
        text = http.get("/metrics").text
    count = "mapsvc_http_request_duration_seconds_count"
    assert (
        f'{count}{{method="GET",route="/api/collections/{{layer}}/items",status="2xx"}} 1.0' in text
    )
    assert f'{count}{{method="GET",route="cached",status="2xx"}} 2.0' in text  # before routing
    assert 'mapsvc_response_cache_requests_total{result="hit"} 2.0' in text
    assert "mapsvc_db_pool_size" in text and "mapsvc_publication_generation" in text
    assert "mapsvc_db_pool_waiting 0.0" in text
    assert 'status="4xx"' in text


def test_metrics_are_not_for_everyone(test_settings, demo):
    url = test_settings.database.url.get_secret_value()
    with live_server(url, MAPSVC_API__METRICS_ALLOW="10.0.0.0/8") as base:
        assert httpx.get(f"{base}/metrics").status_code == 404


def test_readyz_says_not_ready_while_the_publication_watch_is_deaf(client):
    # In-process test apps run without the watch (see conftest); as deployed it is on.
    app = client.app
    app.state.settings = app.state.settings.model_copy(
        update={"api": app.state.settings.api.model_copy(update={"publication_watch": True})}
    )
    response = client.get("/readyz")
    assert response.status_code == 503 and "publication watch" in response.json()["message_en"]


def test_the_pool_counts_the_requests_waiting_for_a_connection(test_settings):
    """With its one connection held, a second checkout shows as waiting until it gets one."""
    import threading

    from mapsvc.db.engine import make_engine

    engine = make_engine(
        test_settings.database.url.get_secret_value(), test_settings.database, pool_size=1
    )
    try:
        held = engine.connect()
        second = threading.Thread(target=lambda: engine.connect().close())
        second.start()
        wait_for(lambda: engine.pool.waiting == 1, what="a waiting checkout")  # type: ignore[attr-defined]
        held.close()
        second.join(5)
        assert not second.is_alive() and engine.pool.waiting == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()
