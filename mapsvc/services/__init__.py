"""Use cases: each one owns its transaction and calls mapsvc.db for SQL."""
