"""Harvesting: datasets kept current from the files municipalities already publish.

``fetcher`` fetches a URL under the SSRF rules; ``sources`` describes and validates a source;
``catalogues`` resolves CKAN and BODIK sources to a file; ``runs`` is the use case that fetches
one source and makes (and maybe publishes) a version; ``scheduler`` runs due sources.
"""
