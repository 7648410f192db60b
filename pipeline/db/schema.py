"""The database schema, once, as data: every table and view, its columns, types, comments and
accepted values, and the layer it belongs to.

Layers follow the data's path: ``raw`` (crawled feeds and reference files as loaded, with
provenance) -> ``staged`` (normalized listings and people, match decisions; rebuilt from raw by
every match) -> ``history`` (what changed between publishes) -> ``published`` (objects built
only in the published file). Raw and staged tables live in the private work database; every
table marked ``published`` is copied into the published file, where each object and column
carries its comment (``COMMENT ON``). ``docs/schema.md`` is rendered from this module
(``python -m pipeline.db.docs``), and the DDL below is generated from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

RAW, STAGED, HISTORY, PUBLISHED = "raw", "staged", "history", "published"
LAYERS = (RAW, STAGED, HISTORY, PUBLISHED)

# Accepted values, most reassuring certification first (the order `physicians` and lookups rank).
CERTIFICATION_VALUES = (
    "certified",
    "certified_other_specialty",
    "lapsed",
    "not_certified",
    "unknown",
)
IDENTITIES = ("matched", "ambiguous", "unmatched")
SOURCE_NAMES = ("nppes", "dac", "boards", "leie")
BOARD_STATUSES = ("active", "expired", "lapsed", "inactive", "suspended", "revoked")
CERTIFICATE_TYPES = ("specialty", "subspecialty")
MOC_VALUES = ("yes", "no", "not_required")
LISTING_CHANGES = ("new", "changed", "unchanged", "not_modified", "carried")
CHANGE_KINDS = {
    "new_listing": "a listing appears (for the first time, or again after it was gone)",
    "listing_gone": "a healthy crawl of its site no longer lists it",
    "specialty_changed": "the specialties it claims changed (canonical names)",
    "affiliation_changed": "the hospital affiliations it lists changed",
    "identity_changed": "it now resolves to another NPI, or no longer / newly resolves",
    "certification_changed": "its verifications.certification value changed",
    "certificate_status_changed": "a certificate of its physician changed status",
    "newly_excluded": "its physician is now on the OIG exclusion list",
    "exclusion_lifted": "its physician is no longer excluded (reinstated or removed)",
}
# What each discrepancy kind means, most serious first (pipeline/discrepancies.py).
DISCREPANCY_KINDS = {
    "excluded": "on the OIG exclusion list (LEIE) without reinstatement",
    "lapsed": "the only certificate in the claimed specialty is expired, lapsed or inactive",
    "not_certified": "no certificate in the claimed specialty (revoked and suspended count here)",
    "certified_other_specialty": "actively certified, but not in the specialty the listing claims",
    "certificate_not_found": "the page names a board certificate the board records do not hold",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""
    values: tuple[str, ...] = ()  # accepted values (documented; loaders and verdicts use them)
    constraint: str = ""  # NOT NULL, PRIMARY KEY
    at_publish: bool = False  # added when the published file is built, not in the work database

    @property
    def text(self) -> str:
        """The column's documentation: its accepted values, then its comment."""
        return " ".join(p for p in (" | ".join(self.values), self.comment) if p)


C = Column


@dataclass(frozen=True)
class Table:
    name: str
    layer: str
    comment: str
    columns: list[Column] = field(default_factory=list)
    view: bool = False
    published: bool = True  # copied into the published file

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self) -> str:
        """CREATE TABLE IF NOT EXISTS of the work-database table."""
        body = ",\n    ".join(
            f"{c.name} {c.type} {c.constraint}".rstrip() for c in self.columns if not c.at_publish
        )
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {body}\n);"


# Published objects first, in the order docs/schema.md lists them; then work-only tables.
_TABLES = (
    Table(
        "verifications",
        PUBLISHED,
        "One row per crawled listing: who it is and what the records confirm. The stable contract (see README).",
        [
            C("listing_id", "VARCHAR", "`site_id:ref`, stable across crawls"),
            C("site_id", "VARCHAR", "registry id of the site"),
            C("source_url", "VARCHAR", "the profile page"),
            C("listed_name", "VARCHAR", "the name as listed"),
            C("claimed_specialties", "VARCHAR[]", "specialties as listed"),
            C("npi", "VARCHAR", "NPI of the matched person; NULL unless identity = 'matched'"),
            C("identity", "VARCHAR", "", values=IDENTITIES),
            C("match_score", "DOUBLE", "probability (0..1) of the best candidate"),
            C("certification", "VARCHAR", "(README explains each)", values=CERTIFICATION_VALUES),
            C(
                "certificates",
                "STRUCT(board VARCHAR, certificate VARCHAR, status VARCHAR, expiration DATE)[]",
                "the matched person's certificates (board, certificate, status, expiration)",
            ),
            C("excluded", "BOOLEAN", "on the OIG LEIE without reinstatement"),
            C("crawled_at", "TIMESTAMP", "when the page was fetched (UTC)"),
            C(
                "evidence",
                "VARCHAR[]",
                "the loaded sources whose records describe the matched person (empty unless matched)",
                values=SOURCE_NAMES,
            ),
            C(
                "npi_deactivated",
                "BOOLEAN",
                "the NPI shown on the page or the matched person's NPI is deactivated in NPPES",
            ),
        ],
        view=True,
    ),
    Table(
        "physicians",
        PUBLISHED,
        "One row per resolved identity (NPI) with every listing of it, its certificates, affiliations, education and exclusion status.",
        [
            C("npi", "VARCHAR", "the resolved identity's NPI (NULL: a person known only from board or LEIE rows without one)"),
            C("person_id", "VARCHAR", "the resolved identity: its NPI, else 'boards:…' / 'leie:…'"),
            C("evidence", "VARCHAR[]", "the sources that describe the person", values=SOURCE_NAMES),
            C("npi_deactivated", "BOOLEAN", "NPPES lists the NPI as deactivated"),
            C("name", "VARCHAR", "display name from the reference records"),
            C("first", "VARCHAR", "NPPES first name"),
            C("middle", "VARCHAR", "NPPES middle name"),
            C("last", "VARCHAR", "NPPES last name"),
            C("suffix", "VARCHAR", "NPPES name suffix"),
            C("credentials", "VARCHAR[]", "NPPES credentials, canonical (MD, DO, …)"),
            C("physician", "BOOLEAN", "holds a physician degree or taxonomy (false: NP, PA, …)"),
            C("gender", "VARCHAR", "NPPES gender code"),
            C("practice_city", "VARCHAR", "NPPES practice city"),
            C("practice_state", "VARCHAR", "NPPES practice state"),
            C("states", "VARCHAR[]", "every state the records or listings place the person in"),
            C(
                "specialties",
                "VARCHAR[]",
                "canonical specialties from the reference records and certificates",
            ),
            C("claimed_specialties", "VARCHAR[]", "specialties as listed, over all listings"),
            C(
                "certification",
                "VARCHAR",
                "the most reassuring certification value over its listings",
            ),
            C(
                "certification_reason",
                "VARCHAR",
                "why certification is unknown (no board records loaded, a non-physician); NULL otherwise",
            ),
            C(
                "listings",
                "STRUCT(listing_id VARCHAR, site_id VARCHAR, source_url VARCHAR, listed_name VARCHAR, claimed_specialties VARCHAR[], certification VARCHAR, first_seen TIMESTAMP, last_seen TIMESTAMP)[]",
                "each listing resolved to this NPI, with first_seen / last_seen",
            ),
            C("sites", "VARCHAR[]", "registry ids of the sites listing the person"),
            C("affiliations", "VARCHAR[]", "hospital affiliations over all listings"),
            C(
                "education",
                'STRUCT("type" VARCHAR, "name" VARCHAR, "year" VARCHAR, "source" VARCHAR)[]',
                "education as listed (type, name, year, source site) and the medical school from Doctors & Clinicians (source 'dac')",
            ),
            C(
                "certificates",
                "STRUCT(board VARCHAR, certificate VARCHAR, certificate_type VARCHAR, status VARCHAR, expiration DATE)[]",
                "board certificates tied to the NPI (board, certificate, certificate_type, status, expiration)",
            ),
            C(
                "active_certificates",
                "VARCHAR[]",
                "names of the certificates whose status is active",
            ),
            C("excluded", "BOOLEAN", "on the OIG LEIE without reinstatement"),
            C(
                "exclusions",
                "STRUCT(exclusion_type VARCHAR, exclusion_date DATE, reinstatement_date DATE)[]",
                "LEIE exclusions tied to the NPI (exclusion_type, exclusion_date, reinstatement_date)",
            ),
            C("first_seen", "TIMESTAMP", "when a listing of the person was first seen"),
            C("last_seen", "TIMESTAMP", "when a listing of the person was last seen"),
        ],
    ),
    Table(
        "changes",
        HISTORY,
        "Events between runs: new listing, listing gone, specialty / affiliation / identity / certification / certificate status changed, newly excluded, exclusion lifted.",
        [
            C("change_id", "BIGINT", "increasing id of the event", constraint="NOT NULL"),
            C(
                "publish_id",
                "VARCHAR",
                "the run that recorded it (publish_runs.publish_id)",
                constraint="NOT NULL",
            ),
            C("changed_at", "TIMESTAMP", "when that run published (UTC)", constraint="NOT NULL"),
            C("kind", "VARCHAR", "", values=tuple(CHANGE_KINDS), constraint="NOT NULL"),
            C("listing_id", "VARCHAR", "the listing concerned"),
            C("site_id", "VARCHAR", "its site"),
            C("npi", "VARCHAR", "its NPI at the time of the event (NULL when not matched)"),
            C("old_value", "VARCHAR", "value before ('; ' between list items)"),
            C("new_value", "VARCHAR", "value after ('; ' between list items)"),
            C(
                "detail",
                "VARCHAR",
                "what else explains the event (the certificate, the crawl time, …)",
            ),
        ],
    ),
    Table(
        "listing_history",
        HISTORY,
        "Every listing ever seen: when it was first and last seen, and when a healthy crawl of its site stopped listing it.",
        [
            C("listing_id", "VARCHAR", "the listing", constraint="NOT NULL"),
            C("site_id", "VARCHAR", "its site"),
            C("first_seen", "TIMESTAMP", "fetch time of the first crawl that listed it (UTC)"),
            C("last_seen", "TIMESTAMP", "fetch time of the latest crawl that listed it (UTC)"),
            C(
                "gone_at",
                "TIMESTAMP",
                "start of the healthy crawl that no longer listed it; NULL while listed",
            ),
        ],
    ),
    Table(
        "listing_versions",
        HISTORY,
        "Each distinct state of a listing with its validity interval: the state as of time X is valid_from <= X AND (valid_to IS NULL OR valid_to > X).",
        [
            C("listing_id", "VARCHAR", "the listing", constraint="NOT NULL"),
            C("site_id", "VARCHAR", "its site"),
            C(
                "valid_from",
                "TIMESTAMP",
                "publish time from which this state holds (UTC)",
                constraint="NOT NULL",
            ),
            C(
                "valid_to",
                "TIMESTAMP",
                "publish time it stopped holding; NULL for the current state",
            ),
            C("publish_id", "VARCHAR", "the run that recorded this state"),
            C("listed_name", "VARCHAR", "the name as listed"),
            C("specialties", "VARCHAR[]", "claimed specialties, canonical, sorted"),
            C("affiliations", "VARCHAR[]", "listed hospital affiliations, sorted"),
            C("npi", "VARCHAR", "matched NPI"),
            C("identity", "VARCHAR", "", values=IDENTITIES),
            C(
                "certification",
                "VARCHAR",
                "(verifications.certification at the time)",
                values=CERTIFICATION_VALUES,
            ),
            C(
                "certificate_statuses",
                "STRUCT(board VARCHAR, certificate VARCHAR, status VARCHAR)[]",
                "the matched person's certificates and their status",
            ),
            C("excluded", "BOOLEAN", "excluded at the time"),
        ],
    ),
    Table(
        "publish_runs",
        HISTORY,
        "Each run that published this file (match or scheduled run).",
        [
            C("publish_id", "VARCHAR", "id of the run", constraint="NOT NULL"),
            C("command", "VARCHAR", "", values=("match", "run", "demo")),
            C("started_at", "TIMESTAMP", "when the run started publishing (UTC)"),
            C(
                "published_at",
                "TIMESTAMP",
                "when its file was swapped in (UTC); NULL if it never was",
            ),
            C("listings", "BIGINT", "listings published"),
            C("matched", "BIGINT", "listings matched to an NPI"),
            C("physicians", "BIGINT", "resolved identities published"),
            C("changes", "BIGINT", "change events the run recorded"),
            C("crawl_run_ids", "VARCHAR[]", "the crawls behind the published listings"),
        ],
    ),
    Table(
        "crawl_runs",
        RAW,
        "Each crawl of one site: when, how it went, and its Scrapy stats.",
        [
            C(
                "run_id",
                "VARCHAR",
                "id of the crawl (its feed is in runs-dir/<run_id>)",
                constraint="PRIMARY KEY",
            ),
            C("site_id", "VARCHAR", "registry id of the site", constraint="NOT NULL"),
            C("start_url", "VARCHAR", "the URL the crawl started from"),
            C("started_at", "TIMESTAMP", "when the crawl started (UTC)"),
            C("finished_at", "TIMESTAMP", "when it finished (UTC)"),
            C("status", "VARCHAR", "", values=("ok", "failed")),
            C("items", "INTEGER", "listings in the feed"),
            C("pages", "INTEGER", "responses received"),
            C("parse_errors", "INTEGER", "pages whose parsing failed"),
            C("soft_404", "INTEGER", "pages that were 'not found' pages served with status 200"),
            C("stats", "JSON", "Scrapy's stats and credcheck counters (JSON)"),
            C("pages_fetched", "INTEGER", "pages downloaded with a body (2xx)"),
            C(
                "not_modified",
                "INTEGER",
                "listings known unchanged without download (304, old lastmod)",
            ),
            C("new_listings", "INTEGER", "refs not in the site's previous run"),
            C("changed", "INTEGER", "refs whose content hash differs from the previous run"),
            C("unchanged", "INTEGER", "refs fetched again with the same content hash"),
            C("gone", "INTEGER", "refs of the previous run missing now (0 when drift)"),
            C("carried", "INTEGER", "rows copied forward from the previous run (304s, drift)"),
            C(
                "drift",
                "BOOLEAN",
                "yield or field coverage fell sharply against the previous run: not a healthy crawl, so listings it misses are not recorded as gone",
            ),
            C("drift_reason", "VARCHAR", "why the run counts as drift"),
            C("field_coverage", "JSON", "{field: share of the run's listings that have it} (JSON)"),
            C("errors", "JSON", "{kind: count}: http_5xx, http_429, timeout, truncated, … (JSON)"),
            C(
                "discovery",
                "JSON",
                "zero-config crawls: what was learned — directory entry, URL templates kept and rejected with their sampled yield, pagination (JSON); the next crawl of the site starts from it",
            ),
        ],
    ),
    Table(
        "load_runs",
        RAW,
        "Each reference file loaded: kind, path, sha256 and row counts.",
        [
            C("load_id", "VARCHAR", "id of the load", constraint="PRIMARY KEY"),
            C("kind", "VARCHAR", "boards | nppes | dac | leie", constraint="NOT NULL"),
            C("path", "VARCHAR", "the file loaded", constraint="NOT NULL"),
            C("sha256", "VARCHAR", "sha256 of the file", constraint="NOT NULL"),
            C("rows_read", "BIGINT", "rows read"),
            C("rows_loaded", "BIGINT", "rows loaded"),
            C("rows_rejected", "BIGINT", "rows rejected (see rejects)"),
            C("started_at", "TIMESTAMP", "when the load started (UTC)"),
            C("finished_at", "TIMESTAMP", "when it finished (UTC)"),
        ],
    ),
    Table(
        "listings",
        STAGED,
        "Crawled listings of each site's latest successful crawl, normalized.",
        [
            C("listing_id", "VARCHAR", "`site_id:ref`"),
            C("site_id", "VARCHAR", "registry id of the site"),
            C("source_url", "VARCHAR", "the profile page"),
            C("listed_name", "VARCHAR", "the name as listed"),
            C("claimed_specialties", "VARCHAR[]", "specialties as listed"),
            C("claimed_canonical", "VARCHAR[]", "claimed specialties, canonical"),
            C("first", "VARCHAR", "parsed first name"),
            C("middle", "VARCHAR", "parsed middle name"),
            C("last", "VARCHAR", "parsed last name"),
            C("suffix", "VARCHAR", "parsed suffix (Jr, III)"),
            C("credentials", "VARCHAR[]", "degrees and credentials, canonical"),
            C("states", "VARCHAR[]", "states of its locations"),
            C("cities", "VARCHAR[]", "cities of its locations (normalized)"),
            C(
                "specialties",
                "VARCHAR[]",
                "claimed and certificate specialties, canonical (used for matching)",
            ),
            C("npi", "VARCHAR", "NPI shown on the page, when valid"),
            C("physician", "BOOLEAN", "lists a physician degree (NULL when no degree is listed)"),
            C("affiliations", "VARCHAR[]", "hospital affiliations as listed"),
            C("crawled_at", "TIMESTAMP", "when the page was fetched (UTC)"),
            C(
                "first_seen",
                "TIMESTAMP",
                "when the listing was first seen (listing_history)",
                at_publish=True,
            ),
            C(
                "last_seen",
                "TIMESTAMP",
                "when the listing was last seen (listing_history)",
                at_publish=True,
            ),
        ],
    ),
    Table(
        "listing_matches",
        STAGED,
        "The match decision of each listing, with its runner-up and the per-comparison levels and weights.",
        [
            C("listing_id", "VARCHAR", "the listing"),
            C("npi", "VARCHAR", "matched NPI (NULL unless matched)"),
            C("identity", "VARCHAR", "", values=IDENTITIES),
            C("match_score", "DOUBLE", "probability of the best candidate"),
            C(
                "certification",
                "VARCHAR",
                "(verifications.certification)",
                values=CERTIFICATION_VALUES,
            ),
            C("candidate_npi", "VARCHAR", "the best candidate, matched or not"),
            C("runner_up_npi", "VARCHAR", "the second-best candidate"),
            C("runner_up_score", "DOUBLE", "its probability"),
            C("person_id", "VARCHAR", "the matched reference person (reference_people.person_id)"),
            C(
                "evidence",
                "VARCHAR[]",
                "sources describing the matched person",
                values=SOURCE_NAMES,
            ),
            C("npi_deactivated", "BOOLEAN", "(verifications.npi_deactivated)"),
            C("certification_reason", "VARCHAR", "why certification is unknown; NULL otherwise"),
            C(
                "comparisons",
                "VARCHAR",
                "per-comparison levels and weights of the best candidate (JSON)",
            ),
        ],
    ),
    Table(
        "reference_people",
        STAGED,
        "Individual providers from whatever references are loaded (NPPES, Doctors & Clinicians, board certificates, LEIE), merged by NPI and by the matcher.",
        [
            C("npi", "VARCHAR", "NPI (NULL: known only from board or LEIE rows without one)"),
            C("person_id", "VARCHAR", "the NPI, else 'boards:' / 'leie:' and a hash of name and place"),
            C("sources", "VARCHAR[]", "the sources that describe the person", values=SOURCE_NAMES),
            C("npi_deactivated", "BOOLEAN", "NPPES lists the NPI as deactivated"),
            C("first", "VARCHAR", "first name"),
            C("middle", "VARCHAR", "middle name"),
            C("last", "VARCHAR", "last name"),
            C("suffix", "VARCHAR", "suffix"),
            C("credentials", "VARCHAR[]", "credentials, canonical"),
            C("alt_lasts", "VARCHAR[]", "other last names (NPPES)"),
            C("states", "VARCHAR[]", "practice, mailing, DAC and license states"),
            C("cities", "VARCHAR[]", "practice, mailing and DAC cities (normalized)"),
            C(
                "specialties",
                "VARCHAR[]",
                "canonical specialties from taxonomies, DAC and board certificates",
            ),
            C("physician", "BOOLEAN", "physician taxonomy, degree or (LEIE) occupation; NULL: unknown"),
            C("practice_city", "VARCHAR", "NPPES practice city"),
            C("practice_state", "VARCHAR", "NPPES practice state"),
            C("gender", "VARCHAR", "gender code"),
            C("medical_school", "VARCHAR", "medical school from Doctors & Clinicians"),
        ],
    ),
    Table(
        "certificates",
        STAGED,
        "Board certificates (canonical board CSV rows) and the NPI each is tied to.",
        [
            C("line_number", "BIGINT", "line in the board CSV"),
            C(
                "matched_npi",
                "VARCHAR",
                "NPI the certificate is tied to (by NPI or by the matcher)",
            ),
            C("person_id", "VARCHAR", "reference person the certificate is tied to"),
            C("first", "VARCHAR", "first name on the certificate"),
            C("middle", "VARCHAR", "middle name"),
            C("last", "VARCHAR", "last name"),
            C("board", "VARCHAR", "issuing board"),
            C("certificate", "VARCHAR", "certificate name"),
            C("certificate_type", "VARCHAR", "", values=CERTIFICATE_TYPES),
            C("status", "VARCHAR", "", values=BOARD_STATUSES),
            C("initial_certification_date", "DATE", "date of initial certification"),
            C("expiration_date", "DATE", "expiration date"),
            C(
                "moc",
                "VARCHAR",
                "participating in Maintenance of Certification (NULL: not stated)",
                values=MOC_VALUES,
            ),
            C("city", "VARCHAR", "city"),
            C("state", "VARCHAR", "state"),
        ],
    ),
    Table(
        "exclusions",
        STAGED,
        "OIG LEIE exclusions of individuals and the NPI each is tied to.",
        [
            C("matched_npi", "VARCHAR", "NPI the exclusion is tied to"),
            C("person_id", "VARCHAR", "reference person the exclusion is tied to"),
            C("line_number", "BIGINT", "line in the LEIE file"),
            C("first", "VARCHAR", "first name"),
            C("middle", "VARCHAR", "middle name"),
            C("last", "VARCHAR", "last name"),
            C("city", "VARCHAR", "city"),
            C("state", "VARCHAR", "state"),
            C("exclusion_type", "VARCHAR", "LEIE exclusion authority, e.g. 1128a1"),
            C("exclusion_date", "DATE", "exclusion date"),
            C("reinstatement_date", "DATE", "reinstatement date (NULL while excluded)"),
        ],
    ),
    Table(
        "raw_listings",
        RAW,
        "The crawled items behind the published listings (latest successful crawl of each site), as JSON with provenance. Older crawls stay in the work database.",
        [
            C("run_id", "VARCHAR", "the crawl (crawl_runs.run_id)", constraint="NOT NULL"),
            C("site_id", "VARCHAR", "registry id of the site", constraint="NOT NULL"),
            C("ref", "VARCHAR", "stable listing key on the site"),
            C("source_url", "VARCHAR", "the page the item was read from", constraint="NOT NULL"),
            C("fetched_at", "TIMESTAMP", "when the page was fetched (UTC)"),
            C("content_hash", "VARCHAR", "sha256 of the response body"),
            C("extractor", "VARCHAR", "jsonld | microdata | html"),
            C(
                "item",
                "JSON",
                "the listing item as crawled (docs/design.md §1)",
                constraint="NOT NULL",
            ),
            C("change", "VARCHAR", "", values=LISTING_CHANGES),
            C("carried_from", "VARCHAR", "run_id the row was copied from (not_modified / carried)"),
        ],
    ),
    Table(
        "rejects",
        RAW,
        "Reference rows that were not loaded, with their line number and reason.",
        [
            C("load_id", "VARCHAR", "the load (load_runs.load_id)", constraint="NOT NULL"),
            C("kind", "VARCHAR", "reference kind", constraint="NOT NULL"),
            C("line_number", "BIGINT", "line in the file"),
            C("reason", "VARCHAR", "why the row was not loaded", constraint="NOT NULL"),
            C("raw_row", "VARCHAR", "the row as read"),
        ],
    ),
    Table(
        "match_parameters",
        STAGED,
        "The parameters each matching run learned (m, u, weight per comparison level): with listing_matches.comparisons, why a listing matched.",
        [
            C("run_id", "VARCHAR", "one matching run; listing_matches.comparisons->>'run_id'"),
            C("created_at", "TIMESTAMP", "when it ran (UTC)"),
            C(
                "link",
                "VARCHAR",
                "(each -> NPPES people)",
                values=("listings", "certificates", "exclusions"),
            ),
            C("comparison", "VARCHAR", "a comparison, or 'prior'"),
            C("level", "INTEGER", "agreement level of the comparison"),
            C("level_name", "VARCHAR", "what the level means"),
            C("m", "DOUBLE", "P(level | same person), by EM on broad-rule pairs"),
            C("u", "DOUBLE", "P(level | different people), from random pairs"),
            C("weight", "DOUBLE", "log2(m / u); the prior's is log2(lambda / (1 - lambda))"),
            C(
                "term_frequency_adjusted",
                "BOOLEAN",
                "whether the weight is adjusted for how common the value is",
            ),
        ],
    ),
    Table(
        "lookup_entries",
        PUBLISHED,
        "What `credcheck lookup` shows: one row per physician (matched NPI) or per listing not resolved to one.",
        [
            C("person_key", "VARCHAR", "the NPI, or 'listing:' + listing_id when not resolved"),
            C(
                "card",
                "VARCHAR",
                "JSON: name, npi, state, states, claimed_specialties, specialties, certification, certificates ('name (status)'), excluded, identity, sites",
            ),
        ],
    ),
    Table(
        "lookup_keys",
        PUBLISHED,
        "Name blocking keys of lookup_entries: each surname, its parts and its one-deletion variants (one typo away), with the first initial, sorted by key.",
        [
            C(
                "key",
                "VARCHAR",
                "surname|initial: the surname, a part of it, or a one-deletion variant of those, then '|' and the first name's initial",
            ),
            C("person_key", "VARCHAR", "lookup_entries.person_key"),
            C("first_key", "VARCHAR", "first name key of that name variant"),
            C("last_key", "VARCHAR", "surname key of that name variant"),
        ],
    ),
    Table(
        "specialists",
        PUBLISHED,
        "What `credcheck find` reads: for each board specialty, the physicians holding an active certificate that supports it (the specialty, an equivalent, or a subspecialty of it under its board), sorted by specialty and name.",
        [
            C("name_order", "BIGINT", "rank by specialty, then name, then person_key"),
            C("specialty", "VARCHAR", "canonical board specialty"),
            C("name", "VARCHAR", "physicians.name"),
            C("person_key", "VARCHAR", "lookup_entries.person_key"),
            C("states", "VARCHAR[]", "physicians.states"),
            C("places", "VARCHAR", "the physician's sites and affiliations, space-separated"),
        ],
    ),
    Table(
        "discrepancies",
        PUBLISHED,
        "Matched listings whose claims the records do not support, one row per (listing, kind), most serious kind first, with the evidence (pipeline/discrepancies.py: the web page and notebooks/discrepancies.ipynb read it).",
        [
            C("listing_id", "VARCHAR", "verifications.listing_id"),
            C("site_id", "VARCHAR", "registry id of the site"),
            C("listed_name", "VARCHAR", "the name as listed"),
            C("npi", "VARCHAR", "NPI of the matched person (NULL for one known without an NPI)"),
            C("person_id", "VARCHAR", "the matched person (physicians.person_id)"),
            C("claimed_specialties", "VARCHAR[]", "specialties as listed"),
            C("certification", "VARCHAR", "verifications.certification", values=CERTIFICATION_VALUES),
            C("excluded", "BOOLEAN", "on the OIG LEIE without reinstatement"),
            C("match_score", "DOUBLE", "verifications.match_score"),
            C("source_url", "VARCHAR", "the profile page"),
            C("certificate_evidence", "VARCHAR[]", "each certificate held: 'name (board): status, expires date'"),
            C("exclusion_evidence", "VARCHAR[]", "each exclusion: 'type since date'"),
            C("claimed_certificates", "VARCHAR[]", "board certificates the page names"),
            C("certificates_not_found", "VARCHAR[]", "those no certificate of the person matches (by canonical specialty)"),
            C("kind", "VARCHAR", "most serious first", values=tuple(DISCREPANCY_KINDS)),
        ],
    ),
    Table(
        "load_repairs",
        RAW,
        "Values repaired on the way in, counted per load and kind of repair.",
        [
            C("load_id", "VARCHAR", "the load (load_runs.load_id)", constraint="NOT NULL"),
            C("kind", "VARCHAR", "reference kind", constraint="NOT NULL"),
            C(
                "repair",
                "VARCHAR",
                "e.g. practice_zip_leading_zeros, practice_phone_scientific",
                constraint="NOT NULL",
            ),
            C("row_count", "BIGINT", "rows of the load with that repair (see the repairs column)"),
        ],
        published=False,
    ),
    Table(
        "ref_boards",
        RAW,
        "Canonical board-certification CSV rows as loaded (credcheck load boards).",
        [
            C("load_id", "VARCHAR", "the load"),
            C("line_number", "BIGINT", "line in the file"),
            C("npi", "VARCHAR", "NPI, when the board gives one"),
            C("first_name", "VARCHAR"),
            C("middle_name", "VARCHAR"),
            C("last_name", "VARCHAR"),
            C("suffix", "VARCHAR"),
            C("board", "VARCHAR", "issuing board"),
            C("certificate", "VARCHAR", "certificate as the board names it"),
            C("certificate_type", "VARCHAR", values=CERTIFICATE_TYPES),
            C("status", "VARCHAR", values=BOARD_STATUSES),
            C("initial_certification_date", "DATE"),
            C("expiration_date", "DATE"),
            C("moc", "VARCHAR", "maintenance of certification", values=MOC_VALUES),
            C("city", "VARCHAR"),
            C("state", "VARCHAR"),
            C("repairs", "VARCHAR[]", "values repaired in this row"),
        ],
        published=False,
    ),
    Table(
        "ref_nppes",
        RAW,
        "NPPES npidata rows (monthly file, weekly files applied on top).",
        [
            C("load_id", "VARCHAR", "the load"),
            C("npi", "VARCHAR"),
            C("entity_type", "VARCHAR", "1 = individual, 2 = organization"),
            C("replacement_npi", "VARCHAR"),
            C("last_name", "VARCHAR"),
            C("first_name", "VARCHAR"),
            C("middle_name", "VARCHAR"),
            C("prefix", "VARCHAR"),
            C("suffix", "VARCHAR"),
            C("credential", "VARCHAR", "credential text as filed (M.D., DO, …)"),
            C("other_last_name", "VARCHAR", "former / other last name"),
            C("other_first_name", "VARCHAR"),
            C("other_middle_name", "VARCHAR"),
            C("practice_city", "VARCHAR"),
            C("practice_state", "VARCHAR"),
            C("practice_zip", "VARCHAR", "leading zeros restored"),
            C("practice_phone", "VARCHAR", "scientific notation repaired"),
            C("mailing_city", "VARCHAR"),
            C("mailing_state", "VARCHAR"),
            C("gender", "VARCHAR", "Provider Sex Code (older files: Provider Gender Code)"),
            C("deactivation_date", "DATE"),
            C("taxonomy_codes", "VARCHAR[]", "taxonomy codes in slot order, blanks dropped"),
            C("license_states", "VARCHAR[]", "license states in slot order"),
            C("primary_taxonomy", "VARCHAR", "the code whose primary switch is Y"),
            C("organization_name", "VARCHAR"),
            C("other_name_type", "VARCHAR"),
            C("other_credential", "VARCHAR"),
            C("practice_address_1", "VARCHAR"),
            C("practice_address_2", "VARCHAR"),
            C("mailing_zip", "VARCHAR", "leading zeros restored"),
            C("enumeration_date", "DATE"),
            C("last_update_date", "DATE"),
            C("deactivation_reason", "VARCHAR"),
            C("reactivation_date", "DATE"),
            C(
                "taxonomies",
                "STRUCT(slot INTEGER, code VARCHAR, license VARCHAR, license_state VARCHAR, "
                "is_primary BOOLEAN)[]",
                "the 15 taxonomy slots in slot order, blanks dropped",
            ),
            C("repairs", "VARCHAR[]", "values repaired in this row"),
        ],
        published=False,
    ),
    Table(
        "ref_nppes_other_names",
        RAW,
        "NPPES othername file rows.",
        [
            C("load_id", "VARCHAR", "the load"),
            C("npi", "VARCHAR"),
            C("other_name", "VARCHAR"),
            C("type_code", "VARCHAR"),
        ],
        published=False,
    ),
    Table(
        "ref_nppes_locations",
        RAW,
        "NPPES secondary practice locations (pl file) rows.",
        [
            C("load_id", "VARCHAR", "the load"),
            C("npi", "VARCHAR"),
            C("address_1", "VARCHAR"),
            C("address_2", "VARCHAR"),
            C("city", "VARCHAR"),
            C("state", "VARCHAR"),
            C("zip", "VARCHAR", "leading zeros restored (US only)"),
            C("country", "VARCHAR"),
            C("phone", "VARCHAR"),
            C("phone_extension", "VARCHAR"),
            C("fax", "VARCHAR"),
            C("repairs", "VARCHAR[]", "values repaired in this row"),
        ],
        published=False,
    ),
    Table(
        "ref_dac",
        RAW,
        "Doctors & Clinicians national file rows: one per clinician x enrollment x group x address.",
        [
            C("load_id", "VARCHAR", "the load"),
            C("npi", "VARCHAR"),
            C("last_name", "VARCHAR"),
            C("first_name", "VARCHAR"),
            C("middle_name", "VARCHAR"),
            C("suffix", "VARCHAR"),
            C("gender", "VARCHAR"),
            C("credential", "VARCHAR"),
            C("medical_school", "VARCHAR"),
            C("graduation_year", "VARCHAR"),
            C("primary_specialty", "VARCHAR", "Medicare specialty name (pri_spec)"),
            C("secondary_specialties", "VARCHAR", "sec_spec_all as filed"),
            C("organization", "VARCHAR", "group or facility name"),
            C("city", "VARCHAR"),
            C("state", "VARCHAR"),
            C("zip", "VARCHAR", "leading zeros restored"),
            C("phone", "VARCHAR"),
            C("layout", "VARCHAR", "which layout the file had", values=("current", "2021")),
            C("ind_pac_id", "VARCHAR"),
            C("ind_enrl_id", "VARCHAR"),
            C("secondary_specialty_list", "VARCHAR[]", "sec_spec_1..4"),
            C("telehealth", "VARCHAR"),
            C("org_pac_id", "VARCHAR"),
            C("num_org_mem", "INTEGER"),
            C("address_line_1", "VARCHAR"),
            C("address_line_2", "VARCHAR"),
            C("address_id", "VARCHAR"),
            C("hospital_ccns", "VARCHAR[]", "2021 layout: hosp_afl_1..5"),
            C("hospital_names", "VARCHAR[]", "2021 layout: hosp_afl_lbn_1..5"),
            C("repairs", "VARCHAR[]", "values repaired in this row"),
        ],
        published=False,
    ),
    Table(
        "ref_dac_affiliations",
        RAW,
        "Doctors & Clinicians Facility_Affiliation rows.",
        [
            C("load_id", "VARCHAR", "the load"),
            C("npi", "VARCHAR"),
            C("ind_pac_id", "VARCHAR"),
            C("last_name", "VARCHAR"),
            C("first_name", "VARCHAR"),
            C("middle_name", "VARCHAR"),
            C("suffix", "VARCHAR"),
            C("facility_type", "VARCHAR"),
            C("facility_ccn", "VARCHAR"),
            C("parent_ccn", "VARCHAR"),
        ],
        published=False,
    ),
    Table(
        "ref_leie",
        RAW,
        "OIG LEIE exclusions (UPDATED.csv, monthly supplements applied on top).",
        [
            C("load_id", "VARCHAR", "the load"),
            C("last_name", "VARCHAR"),
            C("first_name", "VARCHAR"),
            C("middle_name", "VARCHAR"),
            C("business_name", "VARCHAR"),
            C("general", "VARCHAR"),
            C("specialty", "VARCHAR"),
            C("npi", "VARCHAR", "NULL when none or invalid (the exclusion is kept)"),
            C("dob", "VARCHAR", "YYYYMMDD as filed"),
            C("address", "VARCHAR"),
            C("city", "VARCHAR"),
            C("state", "VARCHAR"),
            C("zip", "VARCHAR"),
            C("exclusion_type", "VARCHAR", "exclusion authority, e.g. 1128a1"),
            C("exclusion_date", "DATE"),
            C("reinstatement_date", "DATE"),
            C("waiver_date", "DATE"),
            C("waiver_state", "VARCHAR"),
            C("upin", "VARCHAR"),
            C("birth_date", "DATE"),
            C("line_number", "BIGINT", "line in the file"),
            C("repairs", "VARCHAR[]", "values repaired in this row"),
        ],
        published=False,
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in _TABLES}


def tables(*, layer: str | None = None, published: bool | None = None) -> list[Table]:
    """The declared tables (not views), optionally of one layer or published / not."""
    return [
        t
        for t in TABLES.values()
        if not t.view
        and (layer is None or t.layer == layer)
        and (published is None or t.published == published)
    ]


def create_tables(con, layers: Iterable[str]) -> None:
    """Create the work-database tables of ``layers`` if missing, and add columns declared since.

    Existing columns are read once, so only a file made by an older version pays for ALTERs.
    """
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for table in tables():
        if table.layer not in layers or table.layer == PUBLISHED:
            continue
        if table.name not in existing:
            con.execute(table.ddl())
            continue
        for c in table.columns:
            if not c.at_publish and c.name not in existing[table.name]:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {c.name} {c.type}")
