"""Seeded, deterministic demo world: reference extracts, directory sites and the truth.

The world is a population of physicians (plus nurse practitioners, physician assistants,
organizations and, on the medical-school site, PhD researchers).  From that one population the
generator writes, under ``out_dir``:

- ``reference/boards.csv``   canonical board-certification CSV (UTF-8)
- ``reference/npidata.csv``  NPPES npidata extract, real 330-column layout (iso-8859-1)
- ``reference/dac.csv``      CMS Doctors & Clinicians national file, current layout
- ``reference/leie.csv``     OIG LEIE exclusions, real layout
- ``sites/<site_id>.json``   directory content served by ``pipeline/demo/server.py``
- ``truth.csv``              what a perfect pipeline should conclude for every listing
- ``manifest.json``          counts and the deliberately planted difficulties

Listings carry the noise real directories have (nicknames, typos, married names, dropped
accents, specialty synonyms, stale addresses, namesakes in other states) so that matching is hard
in realistic ways.  The truth is computed from the generator's own knowledge; the mapping from
certificates to directory labels lives only here (data/demo/specialties.json, read by
``catalogue``) and must not be imported by matching code.

Modules, in the order a world is made: ``catalogue`` (specialties, names, sites, rates: data
files), ``reference`` (census lists, schools, cities, file headers), ``model`` (people and what
they hold), ``population``, ``certificates``, ``listings``, ``extracts`` (reference files in real
layouts), ``generate`` (a world from a seed, written out).

Everything is driven by ``random.Random`` streams derived from the seed, and dates are relative
to the fixed ``AS_OF`` date, so a seed always yields byte-identical files.
"""

from pipeline.db.schema import CERTIFICATION_VALUES
from pipeline.demo.world.catalogue import (
    AS_OF,
    DATA_DIR,
    LABEL_CANONICAL,
    PRIMARY_SPECIALTIES,
    SPECIALTY_BY_NAME,
    SUBSPECIALTIES,
    Specialty,
)
from pipeline.demo.world.certificates import expected_certification
from pipeline.demo.world.generate import generate_world, main
from pipeline.demo.world.listings import display_name, pick_nickname
from pipeline.demo.world.model import (
    Certificate,
    Person,
    introduce_typo,
    slugify,
    strip_accents,
    title_surname,
)
from pipeline.demo.world.reference import load_reference

__all__ = [
    "AS_OF",
    "CERTIFICATION_VALUES",
    "DATA_DIR",
    "LABEL_CANONICAL",
    "PRIMARY_SPECIALTIES",
    "SPECIALTY_BY_NAME",
    "SUBSPECIALTIES",
    "Certificate",
    "Person",
    "Specialty",
    "display_name",
    "expected_certification",
    "generate_world",
    "introduce_typo",
    "load_reference",
    "main",
    "pick_nickname",
    "slugify",
    "strip_accents",
    "title_surname",
]
