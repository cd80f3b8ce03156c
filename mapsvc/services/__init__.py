"""Use cases: each one owns its transaction and calls mapsvc.db for SQL.

Front ends (the JSON API, the CLI, the staff pages) hand each use case a ``Session`` from the
app's session factory and never touch SQL themselves.
"""

from sqlalchemy.orm import Session

__all__ = ["Session"]
