"""Crawls in child Scrapy processes, and their feeds ingested into the raw tables."""
