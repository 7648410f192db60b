"""The feed exporter for listings: JSON lines, written straight from a ListingItem.

Scrapy's exporter reads each field through ItemAdapter (a membership test, a metadata lookup and
a serializer call per field, some 100 Python calls per listing); a ListingItem is a plain dict
with every field present and no serializers, so its values go to the encoder as they are. Any
other item, or a feed that renames fields, takes Scrapy's path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.python import to_bytes

from spiders.items import LISTING_FIELDS, ListingItem


class ListingJsonLinesExporter(JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        fields = self.fields_to_export
        if type(item) is not ListingItem or isinstance(fields, Mapping):
            super().export_item(item)
            return
        values = {name: item[name] for name in fields or LISTING_FIELDS if name in item}
        self.file.write(to_bytes(self.encoder.encode(values) + "\n", self.encoding))
