"""Everything that talks SQL: engine, tables, migrations and queries."""
