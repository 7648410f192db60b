"""A fast, labelled, physician-shaped linkage world at any size (for ``bench.match``).

The demo world (``world.py``) writes real file layouts and web sites for a few thousand people;
this one writes two in-memory person frames for millions, with numpy, drawing from the same
vocabularies: US Census first names (by sex) and surnames, nicknames, specialties and medical
schools. What makes it physician-shaped, and hard:

- the reference (NPPES-like) holds everyone; about 8% of listings are people it does not hold,
  and the Census surname mix makes namesakes common (many "John Smith"s, in other states);
- 35% of surnames come from a synthetic long tail, as in real populations;
- listings use nicknames (10%), initials (3%), typos in surnames (3%) and first names (2%),
  swapped first/last (1%), full / initial / no middle name;
- married women go by another surname than the registry's legal one (NPPES "other name");
  some hyphenate both;
- 12% of listed physicians moved (half to another state) since the registry was updated;
- specialty labels agree through the crosswalk, are missing, or are another specialty;
- 25% of listings show an NPI (1% of those someone else's); 55% show medical school and year;
- nurse practitioners and physician assistants (not physicians) are in both;
- 6% of listed people appear on two sites (two listings, one NPI).

Lists are scalar columns (one state, one city, ...) to keep a million people small in memory;
the matcher accepts either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.demo.world import PRIMARY_SPECIALTIES, load_reference, npi_check_digit
from pipeline.normalize.schools import _schools
from pipeline.normalize.vocab import read_rows

LONG_TAIL_SURNAMES = 0.35
NOT_IN_REFERENCE = 0.08
ON_TWO_SITES = 0.06


def _pool(items, weights, rng, n) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return np.asarray(items, dtype=object)[rng.choice(len(items), n, p=p / p.sum())]


def _census_weights(pool) -> np.ndarray:
    cum = np.asarray(pool.cum_weights, dtype=float)
    return np.diff(np.r_[0.0, cum])


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
    states = [r["code"] for r in read_rows("us_states.csv") if r["kind"] == "state"]
    ref = load_reference()
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


def _typo(rng, word: str) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    return word[:i] + letter + word[i + 1 :]


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
    spec_names, spec_w = pools["specialties"]
    specialty = _pool(spec_names, spec_w, rng, n)
    specialty[~physician] = np.where(
        rng.random((~physician).sum()) < 0.5, "Family Medicine", "Internal Medicine"
    )
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
            "specialties": specialty,
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


def generate(
    n_listings: int, n_reference: int, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(listings, reference, truth): truth maps listing ``rec_id`` to reference ``rec_id``.

    Listings of people the reference does not hold have no truth row.
    """
    rng = np.random.default_rng(seed)
    ref = load_reference()
    surnames = np.asarray(ref.surnames.items, dtype=object)
    st, city, zips, place_w = _places(rng)
    pools = {
        "female": (ref.first_names["female"].items, _census_weights(ref.first_names["female"])),
        "male": (ref.first_names["male"].items, _census_weights(ref.first_names["male"])),
        "surnames": (surnames, _census_weights(ref.surnames)),
        "tail": _long_tail(rng, surnames, max(20_000, n_reference // 8)),
        "place_w": place_w,
        "specialties": (
            [s.name for s in PRIMARY_SPECIALTIES],
            [s.weight for s in PRIMARY_SPECIALTIES],
        ),
        "schools": np.asarray(sorted(_schools()[0]), dtype=object),
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

    first = src["first"].to_numpy().copy()
    last = src["last"].to_numpy().copy()
    middle = src["middle"].to_numpy().copy()
    # Married women often practise under the other name; some hyphenate both.
    alt = src["alt_lasts"].to_numpy()
    has_alt = np.fromiter((isinstance(a, str) for a in alt), bool, n)
    use_alt = has_alt & (rng.random(n) < 0.5)
    last[use_alt] = alt[use_alt]
    hyphen = has_alt & ~use_alt & (rng.random(n) < 0.15)
    last[hyphen] = [f"{a}-{b}" for a, b in zip(alt[hyphen], src["last"].to_numpy()[hyphen])]
    nicknames = ref.nicknames
    roll = rng.random(n)
    for i in np.flatnonzero(roll < 0.10):
        options = [x for x in nicknames.get(first[i].lower(), ()) if len(x) < len(first[i])]
        if options:
            first[i] = options[int(rng.integers(0, len(options)))].capitalize()
    for i in np.flatnonzero((roll >= 0.10) & (roll < 0.12)):
        first[i] = _typo(rng, first[i])
    initials = (roll >= 0.12) & (roll < 0.15)
    first[initials] = [f"{f[0]}." for f in first[initials]]
    for i in np.flatnonzero(rng.random(n) < 0.03):
        last[i] = _typo(rng, last[i])
    shown_middle = rng.random(n)
    middle[shown_middle < 0.3] = None
    initial_only = (shown_middle >= 0.3) & (shown_middle < 0.7)
    middle[initial_only] = [m[0] if isinstance(m, str) else None for m in middle[initial_only]]
    swapped = rng.random(n) < 0.01
    first[swapped], last[swapped] = last[swapped], first[swapped].copy()

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
    place[moved] = new_place[moved]

    spec = src["specialties"].to_numpy().copy()
    spec_roll = rng.random(n)
    spec[spec_roll < 0.10] = None
    other = spec_roll > 0.95
    spec[other] = _pool(*pools["specialties"], rng, int(other.sum()))

    npi = np.full(n, None, dtype=object)
    show = (rng.random(n) < 0.25) & src["npi"].notna().to_numpy()
    npi[show] = src["npi"].to_numpy()[show]
    wrong = show & (rng.random(n) < 0.01)
    npi[wrong] = people["npi"].to_numpy()[rng.integers(0, n_reference, int(wrong.sum()))]

    school = src["schools"].to_numpy().copy()
    year = src["grad_years"].to_numpy().copy()
    hide = rng.random(n) >= 0.55
    school[hide] = None
    year[hide] = 0
    off_by_one = rng.random(n) < 0.05
    year[off_by_one & ~hide] += 1

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
            "specialties": people["specialties"],
            "npi": people["npi"],
            "physician": people["physician"],
            "schools": people["schools"],
            "grad_years": people["grad_years"],
        }
    )
    order = rng.permutation(n)
    listings = listings.iloc[order].reset_index(drop=True)
    truth_ref = src["rec_id"].to_numpy()[order]
    has = pd.notna(truth_ref)
    truth = pd.DataFrame(
        {"listing": listings["rec_id"][has].to_numpy(), "reference": truth_ref[has]}
    )
    return listings, reference, truth
