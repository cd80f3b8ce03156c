"""``python -m mapsvc`` runs the command-line interface."""

from mapsvc.cli import main

raise SystemExit(main())
