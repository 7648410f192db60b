"""Scrapy's downloader with its per-site concurrency limit actually holding.

Scrapy 2.19's ``Downloader._process_queue`` schedules each download as a coroutine and only
counts it as transferring once that coroutine runs; with no download delay the loop therefore
empties the whole slot queue at once, and CONCURRENT_REQUESTS_PER_DOMAIN is not enforced
(tests/test_crawl_faults.py measured 8 requests in flight against a limit of 1). Counting the
request as transferring when it is taken off the queue restores the limit. ``_process_queue`` is
private API: the concurrency test notices if an upgrade changes it.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PerSlotLimitDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # now, not when the coroutine starts
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
