"""afc: collect API-Football v3 into a database you own."""

__version__ = "0.1.0"
