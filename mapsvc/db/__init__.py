"""Everything that talks SQL: engine, tables, migrations and queries.

Nothing outside ``mapsvc.db`` writes or runs SQL: services call the functions here. Inside, SQL
is written one way for each kind of statement:

- **Core** for statements whose shape depends on the request or the data (optional conditions,
  sort keys, selected properties, CQL2 filters): SQLAlchemy Core over the mapped tables
  (``models``) or the ``published_feature`` view (``features.f``). ORM entities
  (``select(SomeRow)``, ``session.add``) only where the caller needs the row as an object.
- **text()** for fixed statements (one shape whatever the values), written whole with ``:name``
  parameters: hot reads whose Core construct costs more than the query (``features.layer_state``),
  PostGIS-heavy SQL that reads better as SQL (``tiles``), server functions (``nextval``,
  ``set_config``, ``pg_notify``).
- **psycopg** only for what SQLAlchemy cannot send: COPY (``driver.driver_cursor``, on the
  session's own connection and transaction) and LISTEN (``publication_watch``, on a connection
  of its own, which also asks its few questions on it).

Every value is a bound parameter, and no SQL is assembled from strings. The one exception is a
name PostgreSQL cannot bind: a database's, in CREATE/DROP DATABASE (``engine``, checked by
``valid_database_name``), and the LISTEN channel (quoted by psycopg's ``sql.Identifier``).
"""
