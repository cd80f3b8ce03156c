"""Use cases: each one owns its transaction and calls mapsvc.db for SQL.

Front ends (the JSON API, the staff portal, the edge middleware, the CLI) hand each use case the
session named by ``mapsvc.services.session`` and never touch SQL, commit or roll back themselves.
This package's own module imports nothing (a contract keeps SQLAlchemy out of it).
"""
