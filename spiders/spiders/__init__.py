"""Spiders: ``directory`` (zero-config) and one per entry of the site registry (sites.py)."""
