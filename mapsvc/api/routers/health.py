"""Liveness and database health."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from mapsvc.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Answer ok when the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
