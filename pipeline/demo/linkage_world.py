"""A fast, labelled, physician-shaped linkage world at any size (for ``bench.match``).

The demo world (``world.py``) writes real file layouts and web sites for a few thousand people;
this one writes two in-memory person frames for millions, with numpy. It draws only from the
generator's own inputs in ``data/demo`` — US Census first names (by sex) and surnames, the
everyday nicknames written for the generator (``everyday_nicknames.csv``, not the matcher's
nickname table), the demo's specialty labels plus service-line labels no crosswalk lists, and
the medical-school lists with the spelling variants directories use — never from the tables the
matcher reads (``data/vocab``, the ``nicknames`` package). What makes it physician-shaped, and
hard:

- the reference (NPPES-like) holds everyone; about 8% of listings are people it does not hold,
  and the Census surname mix makes namesakes common (many "John Smith"s, in other states);
- 35% of surnames come from a synthetic long tail, as in real populations;
- listings use nicknames (10%), initials (3%), typos in surnames (3%, some in the first letter)
  and first names (2%, plus 1% in the first letter), swapped first/last (1%), full / initial /
  no / a wrong middle name (3% corrupted);
- married women go by another surname than the registry's legal one (NPPES "other name");
  some hyphenate both;
- 12% of listed physicians moved (half to another state) since the registry was updated;
- specialty labels as directories write them (some are service lines no crosswalk knows), are
  missing, or are another specialty;
- 25% of listings show an NPI (1% of those someone else's); 55% show a medical school (as the
  directory spells it) and year; the reference spells schools as CMS files do (upper case);
- nurse practitioners and physician assistants (not physicians) are in both;
- the reference states each person's sex, as NPPES does; listings do not;
- 6% of listed people appear on two sites (two listings, one NPI).

Schools and specialty labels are raw text: ``staged`` turns them into what the pipeline's staging
step gives the matcher (canonical names, None where unknown), the same for every system.

The truth names each listing's kinds of noise (``NOISE_KINDS``, ";"-joined) so that recall can be
read per kind. Lists are scalar columns (one state, one city, ...) to keep a million people small
in memory; the matcher accepts either.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from pipeline.demo.world import DATA_DIR, PRIMARY_SPECIALTIES, load_reference
from pipeline.normalize.npi import npi_check_digit

LONG_TAIL_SURNAMES = 0.35
NOT_IN_REFERENCE = 0.08
ON_TWO_SITES = 0.06

# Every kind of noise a true pair may carry; the truth lists them per listing.
NOISE_KINDS = (
    "nickname",
    "first_initial_only",
    "first_typo",
    "first_letter_typo",
    "surname_typo",
    "swapped_names",
    "other_surname",
    "hyphenated_surname",
    "middle_corrupted",
    "moved_in_state",
    "moved_out_of_state",
    "specialty_service_line",
    "specialty_other",
    "school_variant",
    "wrong_npi_shown",
)

# Service lines and marketing labels directories use instead of a specialty: the generator's
# own list (no crosswalk consulted), each with the specialties whose physicians it is shown for.
SERVICE_LINES = (
    ("Heart & Vascular Institute", ("Internal Medicine", "Thoracic and Cardiac Surgery")),
    ("Women's Health", ("Obstetrics and Gynecology", "Family Medicine")),
    ("Bone & Joint Center", ("Orthopaedic Surgery", "Physical Medicine and Rehabilitation")),
    ("Children's Health", ("Pediatrics",)),
    ("Primary & Urgent Care", ("Family Medicine", "Internal Medicine", "Emergency Medicine")),
    ("Cancer Care", ("Radiation Oncology", "Surgery", "Internal Medicine")),
    ("Brain & Spine", ("Neurology", "Neurological Surgery")),
    ("Surgical Associates", ("Surgery", "Vascular Surgery", "Colon and Rectal Surgery")),
    ("Eye Care", ("Ophthalmology",)),
    ("Skin & Laser", ("Dermatology", "Plastic Surgery")),
    ("Behavioral Health", ("Psychiatry",)),
    ("Imaging Services", ("Diagnostic Radiology",)),
    ("Perioperative Services", ("Anesthesiology",)),
)


def _pool(items, weights, rng, n) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(items, dtype=object)[rng.choice(len(items), n, p=p / p.sum())]


def _census_weights(pool) -> np.ndarray:
    cum = np.asarray(pool.cum_weights, dtype=float)
    return np.diff(np.r_[0.0, cum])


def everyday_nicknames() -> dict[str, tuple[str, ...]]:
    """Formal first name (lower case) -> its everyday short forms, from the generator's list."""
    table: dict[str, list[str]] = {}
    with (DATA_DIR / "everyday_nicknames.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table.setdefault(row["formal"], []).append(row["nickname"])
    return {k: tuple(v) for k, v in table.items()}


def _long_tail(rng, surnames: np.ndarray, size: int) -> np.ndarray:
    """Plausible rare surnames: the front of one Census surname joined to the back of another."""
    a = surnames[rng.integers(0, len(surnames), size * 2)]
    b = surnames[rng.integers(0, len(surnames), size * 2)]
    cut_a = rng.integers(2, 5, size * 2)
    cut_b = rng.integers(2, 5, size * 2)
    names = {x[:i] + y[-j:] for x, y, i, j in zip(a, b, cut_a, cut_b)}
    names -= set(surnames)
    return np.asarray(sorted(names)[:size], dtype=object)


def _places(rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(state, city, zip, weight) of ~10,000 places: the demo's real cities plus invented ones."""
    ref = load_reference()
    states = sorted({c.state for c in ref.cities} | set(_STATE_CODES.split()))
    st, city, zips, weight = [], [], [], []
    for c in ref.cities:
        st.append(c.state)
        city.append(c.city)
        zips.append(c.zip)
        weight.append(20.0)
    stems = ["Spring", "River", "Oak", "Cedar", "Maple", "Lake", "Hill", "Fair", "Green", "Pine"]
    ends = ["field", "ville", "ton", "wood", "dale", "port", "burg", " City", " Falls", " Park"]
    for s_i, state in enumerate(states):
        size = rng.pareto(1.2) + 1
        for k in range(200):
            name = f"{stems[k % 10]}{ends[(k // 10) % 10]}{'' if k < 100 else ' ' + 'NS'[k % 2]}"
            st.append(state)
            city.append(name.strip())
            zips.append(f"{(s_i * 2000 + k * 7) % 99999:05d}")
            weight.append(size * rng.pareto(1.5) + 0.1)
    return (
        np.asarray(st, dtype=object),
        np.asarray(city, dtype=object),
        np.asarray(zips, dtype=object),
        np.asarray(weight, dtype=float),
    )


# The 50 states and DC (postal codes).
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Letters typed or heard for one another at the start of a name.
_FIRST_LETTER_SLIPS = {
    "c": "k", "k": "c", "s": "c", "j": "g", "g": "j", "y": "j", "i": "e", "e": "a", "a": "e",
    "f": "ph", "p": "b", "b": "p", "d": "t", "t": "d", "m": "n", "n": "m", "v": "b", "w": "v",
    "z": "s", "r": "l", "l": "r", "h": "", "o": "a", "u": "o",
}  # fmt: skip


def _typo(rng, word: str, first_letter: bool = False) -> str:
    """One dropped, transposed, doubled or changed letter; ``first_letter``: at the start."""
    if len(word) < 3:
        return word
    if first_letter:
        head, rest = word[0], word[1:]
        slip = _FIRST_LETTER_SLIPS.get(head.lower())
        if slip is None or rng.random() < 0.3:
            slip = _LETTERS[int(rng.integers(0, 26))]
        out = slip + rest
        return out[:1].upper() + out[1:] if word[:1].isupper() else out
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    letter = _LETTERS[int(rng.integers(0, 26))]
    return word[:i] + letter + word[i + 1 :]


_SCHOOL_UNITS = (
    " School of Medicine",
    " College of Medicine",
    " Medical School",
    " Faculty of Medicine",
    " Medical College",
)


def _school_as_listed(rng, name: str) -> str:
    """How a directory spells a school: short forms, "Univ.", no "The", a slip of the pen."""
    roll = rng.random()
    out = name
    if roll < 0.25:
        for unit in _SCHOOL_UNITS:
            if out.endswith(unit):
                out = out[: -len(unit)]
                break
    elif roll < 0.45:
        out = out.replace("University", "Univ.").replace("College", "Coll.")
    elif roll < 0.6:
        out = out.replace(" of Medicine", " of Med").replace(" & ", " and ")
    elif roll < 0.7:
        out = _typo(rng, out)
    if out.startswith("The ") and rng.random() < 0.5:
        out = out[4:]
    return out


def _npis(rng, n: int) -> np.ndarray:
    """Distinct NPIs with valid check digits (Luhn over the "80840" prefix + 9 digits)."""
    bases = 100_000_000 + rng.choice(200_000_000, n, replace=False)
    digits = (bases[:, None] // 10 ** np.arange(8, -1, -1)) % 10  # most significant first
    doubled = digits.copy()
    doubled[:, 0::2] *= 2  # from the right, every second digit of the 9 (positions 0,2,..,8)
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - (24 + doubled.sum(axis=1)) % 10) % 10
    assert npi_check_digit(str(bases[0])) == check[0]
    return (bases * 10 + check).astype(str).astype(object)


def _people(rng, n: int, pools: dict) -> pd.DataFrame:
    female = rng.random(n) < 0.5
    first = np.where(female, _pool(*pools["female"], rng, n), _pool(*pools["male"], rng, n)).astype(
        object
    )
    middle = np.where(
        female, _pool(*pools["female"], rng, n), _pool(*pools["male"], rng, n)
    ).astype(object)
    middle[rng.random(n) < 0.25] = None
    tail = rng.random(n) < LONG_TAIL_SURNAMES
    last = _pool(*pools["surnames"], rng, n)
    last[tail] = pools["tail"][rng.integers(0, len(pools["tail"]), tail.sum())]
    place = rng.choice(len(pools["place_w"]), n, p=pools["place_w"] / pools["place_w"].sum())
    role = rng.random(n)
    physician = role < 0.85
    spec_idx = rng.choice(len(pools["spec_w"]), n, p=pools["spec_w"] / pools["spec_w"].sum())
    index = pools["spec_index"]
    family, internal = index["Family Medicine"], index["Internal Medicine"]
    spec_idx[~physician] = np.where(rng.random((~physician).sum()) < 0.5, family, internal)
    school = pools["schools"][rng.integers(0, len(pools["schools"]), n)]
    year = rng.integers(1970, 2021, n)
    return pd.DataFrame(
        {
            "female": female,
            "first": first,
            "middle": middle,
            "last": last,
            "alt_lasts": np.full(n, None, dtype=object),
            "place": place,
            "spec": spec_idx,
            "physician": physician,
            "schools": school,
            "grad_years": year,
        }
    )


def _marry(rng, people: pd.DataFrame, pools: dict, share: float) -> None:
    """Married women: registry keeps one surname, the other is the NPPES other name."""
    married = np.flatnonzero(people["female"].to_numpy() & (rng.random(len(people)) < share))
    spouse = _pool(*pools["surnames"], rng, len(married))
    maiden = people["last"].to_numpy()[married]
    legal_is_married = rng.random(len(married)) < 0.6
    last = people["last"].to_numpy().copy()
    alt = people["alt_lasts"].to_numpy().copy()
    last[married] = np.where(legal_is_married, spouse, maiden)
    alt[married] = np.where(legal_is_married, maiden, spouse)
    people["last"], people["alt_lasts"] = last, alt


def _specialty_labels(rng, spec_idx: np.ndarray, pools: dict) -> tuple[np.ndarray, np.ndarray]:
    """(label as a directory writes it, is it a service line) per listing."""
    names = pools["spec_names"]
    labels = np.empty(len(spec_idx), dtype=object)
    for k, spec in enumerate(PRIMARY_SPECIALTIES):
        rows = np.flatnonzero(spec_idx == k)
        if len(rows):
            options = np.asarray(spec.labels, dtype=object)
            labels[rows] = options[rng.integers(0, len(options), len(rows))]
    service = np.zeros(len(spec_idx), dtype=bool)
    roll = rng.random(len(spec_idx))
    for label, specs in SERVICE_LINES:
        fits = np.isin(names[spec_idx], specs) & (roll < 0.08)
        labels[fits] = label
        service |= fits
        roll[fits] = 1.0  # one label per listing
    return labels, service


def generate(
    n_listings: int, n_reference: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(listings, reference, truth): truth maps listing ``rec_id`` to reference ``rec_id``.

    Listings of people the reference does not hold have no truth row. ``truth["noise"]`` lists
    the kinds of noise (``NOISE_KINDS``) the listing carries, ";"-joined, "" when none.
    Specialties and schools are raw text: pass both frames through ``staged`` before matching.
    """
    rng = np.random.default_rng(seed)
    ref = load_reference()
    surnames = np.asarray(ref.surnames.items, dtype=object)
    st, city, zips, place_w = _places(rng)
    # About a quarter of US physicians graduated abroad.
    school_list = [s.name for s in (*ref.md_schools, *ref.do_schools)] * 3
    school_list += [s.name for group in ref.img_schools.values() for s in group][::4]
    pools = {
        "female": (ref.first_names["female"].items, _census_weights(ref.first_names["female"])),
        "male": (ref.first_names["male"].items, _census_weights(ref.first_names["male"])),
        "surnames": (surnames, _census_weights(ref.surnames)),
        "tail": _long_tail(rng, surnames, max(20_000, n_reference // 8)),
        "place_w": place_w,
        "spec_names": np.asarray([s.name for s in PRIMARY_SPECIALTIES], dtype=object),
        "spec_w": np.asarray([s.weight for s in PRIMARY_SPECIALTIES], dtype=float),
        "spec_index": {s.name: i for i, s in enumerate(PRIMARY_SPECIALTIES)},
        "schools": np.asarray(school_list, dtype=object),
    }

    people = _people(rng, n_reference, pools)
    _marry(rng, people, pools, 0.3)
    people["rec_id"] = _npis(rng, n_reference)
    people["npi"] = people["rec_id"]
    no_school = rng.random(n_reference) < 0.15
    people.loc[no_school, "schools"] = None
    people.loc[no_school, "grad_years"] = 0

    # Who is listed: reference people, some on two sites, and people the reference lacks.
    n_outside = int(n_listings * NOT_IN_REFERENCE)
    n_twice = int(n_listings * ON_TWO_SITES)
    n_once = n_listings - n_outside - n_twice
    listed = rng.choice(n_reference, n_once, replace=False)
    listed = np.r_[listed, rng.choice(listed, n_twice, replace=False)]
    inside = people.iloc[listed].reset_index(drop=True)
    outside = _people(rng, n_outside, pools)
    _marry(rng, outside, pools, 0.3)
    outside["rec_id"] = outside["npi"] = None
    src = pd.concat([inside, outside], ignore_index=True)
    n = len(src)
    noise = {kind: np.zeros(n, dtype=bool) for kind in NOISE_KINDS}

    first = src["first"].to_numpy().copy()
    last = src["last"].to_numpy().copy()
    middle = src["middle"].to_numpy().copy()
    # Married women often practise under the other name; some hyphenate both.
    alt = src["alt_lasts"].to_numpy()
    has_alt = np.fromiter((isinstance(a, str) for a in alt), bool, n)
    use_alt = has_alt & (rng.random(n) < 0.5)
    last[use_alt] = alt[use_alt]
    noise["other_surname"] = use_alt
    hyphen = has_alt & ~use_alt & (rng.random(n) < 0.15)
    last[hyphen] = [f"{a}-{b}" for a, b in zip(alt[hyphen], src["last"].to_numpy()[hyphen])]
    noise["hyphenated_surname"] = hyphen

    nicknames = everyday_nicknames()
    roll = rng.random(n)
    for i in np.flatnonzero(roll < 0.10):
        options = nicknames.get(first[i].lower())
        if options:
            first[i] = options[int(rng.integers(0, len(options)))].capitalize()
            noise["nickname"][i] = True
    for i in np.flatnonzero((roll >= 0.10) & (roll < 0.12)):
        first[i] = _typo(rng, first[i])
        noise["first_typo"][i] = True
    for i in np.flatnonzero((roll >= 0.12) & (roll < 0.13)):
        first[i] = _typo(rng, first[i], first_letter=True)
        noise["first_letter_typo"][i] = True
    initials = (roll >= 0.13) & (roll < 0.16)
    first[initials] = [f"{f[0]}." for f in first[initials]]
    noise["first_initial_only"] = initials
    for i in np.flatnonzero(rng.random(n) < 0.03):
        last[i] = _typo(rng, last[i], first_letter=rng.random() < 0.15)
        noise["surname_typo"][i] = True
    shown_middle = rng.random(n)
    middle[shown_middle < 0.3] = None
    initial_only = (shown_middle >= 0.3) & (shown_middle < 0.7)
    middle[initial_only] = [m[0] if isinstance(m, str) else None for m in middle[initial_only]]
    # A wrong middle name: a typo in it, or another name altogether (a data-entry slip).
    corrupt = (shown_middle >= 0.7) & (rng.random(n) < 0.1)
    corrupt &= np.fromiter((isinstance(m, str) for m in middle), bool, n)
    for i in np.flatnonzero(corrupt):
        if rng.random() < 0.5:
            middle[i] = _typo(rng, middle[i])
        else:
            pool = pools["female"] if src["female"].iat[i] else pools["male"]
            middle[i] = _pool(*pool, rng, 1)[0]
    noise["middle_corrupted"] = corrupt & (middle != src["middle"].to_numpy())
    swapped = rng.random(n) < 0.01
    first[swapped], last[swapped] = last[swapped], first[swapped].copy()
    noise["swapped_names"] = swapped

    # Moves: half within the state, half to another state.
    place = src["place"].to_numpy().copy()
    moved = rng.random(n) < 0.12
    new_place = rng.choice(len(place_w), n, p=place_w / place_w.sum())
    same_state = moved & (rng.random(n) < 0.5)
    by_state: dict[str, np.ndarray] = {}
    for i in np.flatnonzero(same_state):
        options = by_state.get(st[place[i]])
        if options is None:
            options = by_state[st[place[i]]] = np.flatnonzero(st == st[place[i]])
        new_place[i] = options[int(rng.integers(0, len(options)))]
    old_state = st[place]
    place[moved] = new_place[moved]
    noise["moved_in_state"] = moved & (st[place] == old_state) & (place != src["place"].to_numpy())
    noise["moved_out_of_state"] = moved & (st[place] != old_state)

    spec_idx = src["spec"].to_numpy().copy()
    spec_roll = rng.random(n)
    other = spec_roll > 0.95
    spec_idx[other] = rng.choice(
        len(pools["spec_w"]), int(other.sum()), p=pools["spec_w"] / pools["spec_w"].sum()
    )
    noise["specialty_other"] = other & (spec_idx != src["spec"].to_numpy())
    spec, service = _specialty_labels(rng, spec_idx, pools)
    spec[spec_roll < 0.10] = None
    noise["specialty_service_line"] = service & (spec_roll >= 0.10)

    npi = np.full(n, None, dtype=object)
    show = (rng.random(n) < 0.25) & src["npi"].notna().to_numpy()
    npi[show] = src["npi"].to_numpy()[show]
    wrong = show & (rng.random(n) < 0.01)
    npi[wrong] = people["npi"].to_numpy()[rng.integers(0, n_reference, int(wrong.sum()))]
    noise["wrong_npi_shown"] = wrong

    school = src["schools"].to_numpy().copy()
    year = src["grad_years"].to_numpy().copy()
    hide = rng.random(n) >= 0.55
    school[hide] = None
    year[hide] = 0
    off_by_one = rng.random(n) < 0.05
    year[off_by_one & ~hide] += 1
    for i in np.flatnonzero(np.fromiter((isinstance(s, str) for s in school), bool, n)):
        shown = _school_as_listed(rng, school[i])
        noise["school_variant"][i] = shown != school[i]
        school[i] = shown

    listings = pd.DataFrame(
        {
            "rec_id": [f"L{i}" for i in range(n)],
            "first": first,
            "middle": middle,
            "last": last,
            "alt_lasts": None,
            "states": st[place],
            "cities": city[place],
            "zips": zips[place],
            "specialties": spec,
            "npi": npi,
            "physician": np.where(rng.random(n) < 0.9, src["physician"], None),
            "schools": school,
            "grad_years": year,
        }
    )
    ref_school = people["schools"].to_numpy()
    reference = pd.DataFrame(
        {
            "rec_id": people["rec_id"],
            "first": people["first"].str.upper(),
            "middle": people["middle"],
            "last": people["last"],
            "alt_lasts": people["alt_lasts"],
            "states": st[people["place"]],
            "cities": city[people["place"]],
            "zips": zips[people["place"]],
            "specialties": pools["spec_names"][people["spec"].to_numpy()],
            "npi": people["npi"],
            "physician": people["physician"],
            "gender": np.where(people["female"].to_numpy(), "F", "M"),  # NPPES "Provider Sex Code"
            "schools": [s.upper() if isinstance(s, str) else None for s in ref_school],
            "grad_years": people["grad_years"],
        }
    )
    order = rng.permutation(n)
    listings = listings.iloc[order].reset_index(drop=True)
    truth_ref = src["rec_id"].to_numpy()[order]
    has = pd.notna(truth_ref)
    flags = np.stack([noise[k][order][has] for k in NOISE_KINDS], axis=1)
    kinds = np.asarray(NOISE_KINDS, dtype=object)
    truth = pd.DataFrame(
        {
            "listing": listings["rec_id"][has].to_numpy(),
            "reference": truth_ref[has],
            "noise": [";".join(kinds[row]) for row in flags],
        }
    )
    return listings, reference, truth


def staged(frame: pd.DataFrame) -> pd.DataFrame:
    """Specialty labels and school names as the pipeline's staging gives them to the matcher.

    Canonical specialty and school names (``pipeline.normalize``), None where the label or the
    school is unknown — derived once per distinct text.
    """
    from pipeline.normalize.schools import canonical_school
    from pipeline.normalize.specialties import canonical_specialty

    out = frame.copy()
    for column, fn in (("specialties", canonical_specialty), ("schools", canonical_school)):
        codes, uniques = pd.factorize(out[column])
        mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
        out[column] = mapped[codes]
    return out
