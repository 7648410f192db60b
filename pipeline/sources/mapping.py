"""Board records in other layouts: a TOML mapping turns each row of another CSV layout into
canonical board rows (``credcheck load boards FILE --mapping MAP.toml``).

A mapping names, for each canonical column, the file's column (``[columns]``) or a value for
every row (``[defaults]``); translates the file's status and certificate-type vocabularies
(``[status]``, ``[certificate_type]``, matched without regard to case or spacing); reads dates in
the formats it lists (``[dates] formats``, strptime codes, tried in order); splits a full name
column (``full_name``: "LAST, First M." or "Dr. First M. Last, MD"); and, for files with one row
per person and several certificates in columns, lists each certificate's columns
(``[[certificates]]``): a row yields one canonical row per certificate it fills. See
``docs/examples/board_mapping.toml``.

Values the mapping cannot translate are passed on as they are, so the canonical checks reject
the row with its line and reason (an unknown status, a date in no listed format).
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import CredcheckError
from pipeline.normalize.names import parse_person_name

CANONICAL = (
    "npi", "first_name", "middle_name", "last_name", "suffix", "board", "certificate",
    "certificate_type", "status", "initial_certification_date", "expiration_date", "moc",
    "city", "state",
)  # fmt: skip
CERTIFICATE_FIELDS = (
    "board", "certificate", "certificate_type", "status", "initial_certification_date",
    "expiration_date", "moc",
)  # fmt: skip
DATE_FIELDS = ("initial_certification_date", "expiration_date")
REQUIRED = ("first_name", "last_name", "certificate", "status", "initial_certification_date")
_SECTIONS = {"columns", "defaults", "status", "certificate_type", "moc", "dates", "certificates"}


def _vocab_key(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass(frozen=True)
class BoardMapping:
    columns: dict[str, str]  # canonical column (or full_name) -> the file's column
    defaults: dict[str, str] = field(default_factory=dict)
    vocabularies: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> map
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    certificates: tuple[dict[str, str], ...] = ()  # per certificate: canonical -> column

    @classmethod
    def read(cls, path: Path) -> BoardMapping:
        """Read and check a mapping file; a mistake is a ``CredcheckError`` naming it."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CredcheckError(f"boards: cannot read the mapping {path}: {exc}") from exc
        unknown = set(data) - _SECTIONS
        if unknown:
            raise CredcheckError(
                f"boards: mapping {path}: unknown section(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_SECTIONS))})"
            )
        columns = _strings(path, data, "columns")
        defaults = _strings(path, data, "defaults")
        for name in (*columns, *defaults):
            if name not in CANONICAL and name != "full_name":
                raise CredcheckError(
                    f"boards: mapping {path}: {name!r} is not a canonical board column "
                    f"({', '.join(CANONICAL)}, or full_name)"
                )
        certificates = []
        for i, cert in enumerate(data.get("certificates", []), start=1):
            if not isinstance(cert, dict) or set(cert) - set(CERTIFICATE_FIELDS):
                raise CredcheckError(
                    f"boards: mapping {path}: certificates #{i} may name only "
                    f"{', '.join(CERTIFICATE_FIELDS)}"
                )
            certificates.append({k: str(v) for k, v in cert.items()})
        vocabularies = {
            name: {_vocab_key(k): str(v) for k, v in _strings(path, data, name).items()}
            for name in ("status", "certificate_type", "moc")
        }
        formats = data.get("dates", {}).get("formats", ["%Y-%m-%d"])
        if isinstance(formats, str):
            formats = [formats]
        mapping = cls(columns, defaults, vocabularies, tuple(formats), tuple(certificates))
        mapping._check_complete(path)
        return mapping

    def _check_complete(self, path: Path) -> None:
        given = set(self.columns) | set(self.defaults)
        if "full_name" in self.columns:
            given |= {"first_name", "middle_name", "last_name", "suffix"}
        for cert in self.certificates or ({},):
            missing = [c for c in REQUIRED if c not in given and c not in cert]
            if missing:
                raise CredcheckError(
                    f"boards: mapping {path} gives no column or default for {', '.join(missing)}"
                )

    def file_columns(self) -> set[str]:
        return set(self.columns.values()) | {c for cert in self.certificates for c in cert.values()}

    def rows(self, path: Path, encoding: str) -> Iterator[tuple[int, list[str] | None, str]]:
        """(line, canonical values in CANONICAL order or None for an empty row, raw line) for
        every certificate of every row of ``path``."""
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            position = {_vocab_key(h): i for i, h in enumerate(header)}
            missing = sorted(c for c in self.file_columns() if _vocab_key(c) not in position)
            if missing:
                raise CredcheckError(
                    f"boards: {path} has no column(s) {', '.join(missing)} named by the mapping"
                )

            def cell(values: list[str], column: str) -> str:
                i = position[_vocab_key(column)]
                return values[i].strip() if i < len(values) else ""

            for line, values in enumerate(reader, start=2):
                raw = ",".join(values)
                if not any(v.strip() for v in values):
                    yield line, None, raw
                    continue
                person = dict.fromkeys(CANONICAL, "") | self.defaults
                person |= {c: cell(values, col) for c, col in self.columns.items()}
                if "full_name" in self.columns:
                    name = parse_person_name(person.pop("full_name"))
                    person["first_name"] = person["first_name"] or name.first or ""
                    person["middle_name"] = person["middle_name"] or name.middle or ""
                    person["last_name"] = person["last_name"] or name.last or ""
                    person["suffix"] = person["suffix"] or name.suffix or ""
                for cert in self.certificates or ({},):
                    row = person | {c: cell(values, col) for c, col in cert.items()}
                    if self.certificates and not row["certificate"]:
                        continue  # a certificate slot this person does not fill
                    yield line, self._translated(row), raw

    def _translated(self, row: dict[str, str]) -> list[str]:
        for name, vocabulary in self.vocabularies.items():
            if vocabulary and row[name]:
                row[name] = vocabulary.get(_vocab_key(row[name]), row[name])
        for name in DATE_FIELDS:
            row[name] = self._iso_date(row[name])
        return [row[c] for c in CANONICAL]

    def _iso_date(self, text: str) -> str:
        for fmt in self.date_formats:
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        return text  # no date, or in no listed format: the canonical check says which


def _strings(path: Path, data: dict, section: str) -> dict[str, str]:
    value = data.get(section, {})
    if not isinstance(value, dict):
        raise CredcheckError(f"boards: mapping {path}: [{section}] must be a table")
    return {str(k): str(v) for k, v in value.items()}
