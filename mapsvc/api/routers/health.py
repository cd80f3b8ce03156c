"""Liveness and database health."""

from __future__ import annotations

from fastapi import APIRouter

from mapsvc.api.deps import SessionDep
from mapsvc.services.municipalities import check_database

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Answer ok when the database answers."""
    check_database(session)
    return {"status": "ok"}
