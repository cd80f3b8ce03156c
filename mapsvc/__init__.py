"""mapsvc: a wide-area digital map service for a prefecture and its municipalities."""

__version__ = "0.1.0"
