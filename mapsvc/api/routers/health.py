"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mapsvc.api.deps import SessionDep, SettingsDep
from mapsvc.api.metrics import Metrics, allowed
from mapsvc.errors import NotFound, Unavailable
from mapsvc.services.municipalities import check_database
from mapsvc.services.publications import PublicationState

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Answer ok when the database answers."""
    check_database(session)
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Ready for traffic: the database answers and, if configured, the publication watch listens.

    Without the watch a worker could not drop cached responses when something is published.
    Replicas are reported, not required: one that is down or lags beyond the bound is skipped
    and the primary answers its reads (a lagging replica must not take every worker out).
    """
    check_database(session)
    publications: PublicationState = request.app.state.publications
    if settings.api.publication_watch and publications.generation() is None:
        raise Unavailable(
            "公開の通知を待ち受けていません",
            "The publication watch is not connected",
        )
    ready: dict[str, Any] = {"status": "ready"}
    replicas = getattr(request.app.state, "replicas", None)
    if replicas is not None:
        needed = publications.primary_lsn()
        ready["replicas"] = {
            h.name: {"lagSeconds": h.lag_s, "serving": h.usable(needed, replicas.max_lag_s)}
            for h in replicas.health
        }
    return ready


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """Prometheus text format, for the addresses in ``api.metrics_allow`` only (else 404)."""
    if not allowed(request.client.host if request.client else None, settings.api.metrics_allow):
        raise NotFound("見つかりません", "Not found")
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
