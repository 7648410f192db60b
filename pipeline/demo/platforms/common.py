"""Helpers and fixed credentials every vendor platform fixture shares."""

from __future__ import annotations

import json
from typing import Any

from pipeline.demo.site import (
    Page,
)

JSON = "application/json; charset=utf-8"
FIXTURE_CLIENT_ID = "credcheck-fixture"
FIXTURE_CLIENT_SECRET = "fixture-secret"
FIXTURE_API_KEY = "fixture-api-key"
_TOKEN = "fixture-token-7f3a"  # what /oauth2/token hands out
_VIEWSTATE_KEY = b"fixture-machine-key"
PHYSICIAN_DEGREES = {"MD", "DO", "MBBS", "MBCHB"}


def as_json(data: Any, status: int = 200, **kw: Any) -> Page:
    return Page(status, json.dumps(data, ensure_ascii=False), JSON, **kw)


def int_arg(query: dict, name: str, default: int) -> int:
    value = (query.get(name) or [str(default)])[0]
    return int(value) if value.lstrip("-").isdigit() else default


def sort_by_id(listings: list[dict]) -> list[dict]:
    return sorted(listings, key=lambda item: item["id"])


def display_without_prefix(listing: dict) -> str:
    name = listing["display_name"]
    prefix = listing.get("prefix")
    return name[len(prefix) :].strip() if prefix and name.startswith(prefix) else name
