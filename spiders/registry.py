"""The site registry: one TOML table per known site, turned into a spider class each.

    [sites.mercy-general]
    name = "Mercy General Hospital"
    platform = "schemaorg_sitemap"          # see spiders.platforms.PLATFORMS
    start_urls = ["https://www.mercy.example/robots.txt"]
    profile_pattern = '/doctors/[^/]+-(\\d+)/?$'   # optional; group 1 is the listing ref
    listing_pattern = '/find-a-doctor\\?page=\\d+'  # optional

Platforms may take a few more keys (their ``registry_options``: API keys, OAuth2 client id and
secret, page size), e.g. ``client_id = "..."`` for ``kyruus_api``.

The file is ``spiders/sites.toml`` unless the environment variable ``CREDCHECK_SITES`` names
another (the demo writes one with its live loopback ports).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from spiders.platforms import PLATFORMS, DirectorySpider

DEFAULT_REGISTRY = Path(__file__).with_name("sites.toml")
RESERVED_NAMES = {"directory"}
_SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class SiteEntry:
    site_id: str
    name: str
    platform: str
    start_urls: tuple[str, ...]
    profile_pattern: str | None = None
    listing_pattern: str | None = None
    options: tuple[tuple[str, str | int], ...] = ()  # platform registry_options that were set


def registry_path() -> Path:
    return Path(os.environ.get("CREDCHECK_SITES") or DEFAULT_REGISTRY)


def load_registry(path: Path | None = None) -> dict[str, SiteEntry]:
    """Read and check the registry; errors name the file and the site."""
    path = path or registry_path()
    try:
        with open(path, "rb") as fh:
            tables = tomllib.load(fh).get("sites", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read site registry {path}: {exc}") from exc
    entries = {}
    for site_id, table in tables.items():
        where = f"{path}: [sites.{site_id}]"
        if not _SITE_ID.match(site_id) or site_id in RESERVED_NAMES:
            raise RegistryError(f"{where}: invalid site id")
        if table.get("platform") not in PLATFORMS:
            raise RegistryError(f"{where}: platform must be one of {sorted(PLATFORMS)}")
        option_keys = set(PLATFORMS[table["platform"]].registry_options)
        base_keys = {f for f in SiteEntry.__dataclass_fields__ if f not in ("site_id", "options")}
        unknown = set(table) - base_keys - option_keys
        if unknown:
            raise RegistryError(f"{where}: unknown keys {sorted(unknown)}")
        options = tuple(sorted((k, v) for k, v in table.items() if k in option_keys))
        if not all(isinstance(v, str | int) for _, v in options):
            raise RegistryError(f"{where}: platform options must be strings or integers")
        starts = table.get("start_urls")
        if not starts or not all(isinstance(u, str) and u.startswith("http") for u in starts):
            raise RegistryError(f"{where}: start_urls must be a non-empty list of http(s) URLs")
        for key in ("profile_pattern", "listing_pattern"):
            if table.get(key) is not None:
                try:
                    re.compile(table[key])
                except re.error as exc:
                    raise RegistryError(f"{where}: bad {key}: {exc}") from exc
        entries[site_id] = SiteEntry(
            site_id=site_id,
            name=table.get("name", site_id),
            platform=table["platform"],
            start_urls=tuple(starts),
            profile_pattern=table.get("profile_pattern"),
            listing_pattern=table.get("listing_pattern"),
            options=options,
        )
    return entries


def spider_class(entry: SiteEntry, module: str) -> type[DirectorySpider]:
    """A spider class for one registry entry: the platform's base class plus the entry's values."""
    attrs: dict[str, object] = {
        "__module__": module,
        "__doc__": f"{entry.name} ({entry.platform}), from the site registry.",
        "name": entry.site_id,
        "site_id": entry.site_id,
        "site_name": entry.name,
        "start_urls": entry.start_urls,
    }
    if entry.profile_pattern:
        attrs["profile_pattern"] = entry.profile_pattern
    if entry.listing_pattern:
        attrs["listing_pattern"] = entry.listing_pattern
    attrs.update(dict(entry.options))
    class_name = "".join(p.capitalize() for p in re.split(r"[^a-z0-9]+", entry.site_id)) + "Spider"
    return type(class_name, (PLATFORMS[entry.platform],), attrs)
