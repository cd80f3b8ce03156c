"""HTTP API: thin routers over the services."""
