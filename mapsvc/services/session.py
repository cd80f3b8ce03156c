"""The database session as the front ends know it: a handle they pass to use cases, unopened.

Owned here, so that no front end names SQLAlchemy: they get one per request from the app's
session factory and hand it on; the use cases run the statements and own the transaction.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy.orm import Session as _OrmSession

Session: TypeAlias = _OrmSession
