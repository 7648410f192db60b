"""Blocking: candidate pairs that share at least one compound key, joined in DuckDB.

Keys (each a kind and a 64-bit value; the parts are integer codes of per-value derivations):

- ``npi``: the NPI shown on the page equals the person's NPI.
- ``name_sound``: the order-free pair {metaphone(formal first name), metaphone(surname)}, so
  "Bob Smith", "Robert Smyth" and "Smith, Robert" swapped into the wrong fields share it.
- ``initial_prefix_state``: first initial (as written and of the formal name) + first three
  letters of the surname + a state.
- ``surname_typo``: one-deletion variants of the surname + the formal first name (two spellings
  one typo apart always share a deletion variant, even when the typo changes sound and prefix,
  and the person may have moved).
- ``first_typo``: one-deletion variants of the first name as written + the surname (a typo in
  the first name, its first letter included, wherever the person practises now).
- ``surname_initial``: a surname + a first initial (as written and of the formal name),
  wherever the person practises: "M. Wood" or "Jeff Knight" who moved to another state, in
  small blocks only (a rare surname).
- ``surname_initial_year``: a surname + a first initial + the graduation year, wherever the
  person practises: "J. Sanchez" (2009) who moved out of state, where the common surname's
  initial block is too big to keep and its place blocks are in the old state.
- ``surname_middle``: a surname + the whole middle name, wherever the person practises: a first
  name the vocabulary cannot relate ("Livvy" for Olivia) with the middle name kept.
- ``surname_typo_initial``: one-deletion variants of the surname + a first initial, in small
  blocks only: a typo in the surname and a first name that is an initial, a nickname or
  mistyped too ("L. Uhitten", "Jo Dinone").
- ``surname_place``: the whole surname + a city or ZIP (a nickname the vocabulary does not
  know, in the same place).
- ``surname_initial_place``: a surname + a first initial + a city or ZIP: where a common
  surname's block in a big city is too big to keep ("Davis" in a city of 400 of them), "D.
  Davis" there is still a small block.
- ``initial_place``: first initial + a city or ZIP (a surname changed, mistyped beyond the
  other keys or missing, in the same place).
- ``school_place``: the medical school + a city or ZIP (both names changed or garbled, the
  school and the place kept).
- ``neighbourhood``: sorted neighbourhood. Both sides sorted by (surname, first name) and by
  (first name, surname); each left record pairs with the ``NEIGHBOURHOOD_WINDOW`` reference
  records either side of its place in each order. Typos that keep the front of one name (two
  of them, or a first name missing) land next to the right person; the pair budget is fixed:
  4 x the window per record, whatever the size of the reference.

Every surname a person goes by takes part: the main one, other/former names (NPPES "other last
name", maiden names) and the parts of a compound surname. The left side (listings, certificates)
also takes part with its first and last names swapped: a page that put the surname first
("Wong Mei") reaches the person through every key above. A key value shared by more than
``MAX_BLOCK_SIZE`` people on the reference side is dropped (think "smith|j|NY"): it cannot tell
people apart, and the other keys still reach the true pair.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import jellyfish
import numpy as np
import pandas as pd

from pipeline.match.people import Encoded, Vocab

KEY_KINDS = (
    "npi",
    "name_sound",
    "initial_prefix_state",
    "surname_typo",
    "surname_initial",
    "surname_initial_year",
    "surname_middle",
    "surname_typo_initial",
    "surname_place",
    "surname_initial_place",
    "initial_place",
    "first_typo",
    "school_place",
    "neighbourhood",
)
MAX_BLOCK_SIZE = 400
_KIND_BITS = 4  # a key kind in a packed (left, right, kind) integer
_KIND_MASK = (1 << _KIND_BITS) - 1
assert len(KEY_KINDS) <= 1 << _KIND_BITS
NEIGHBOURHOOD_WINDOW = 2
# A first initial in a busy city is a weak key: it only counts in small blocks.
KIND_MAX_BLOCK_SIZE = {
    "initial_place": 20,
    "initial_prefix_state": 50,
    "surname_initial": 20,
    "surname_initial_year": 20,
    "surname_middle": 20,
    "surname_typo_initial": 20,
    "school_place": 10,
}


@dataclass
class Candidates:
    lpos: np.ndarray  # int64 positions on the left
    rpos: np.ndarray  # int64 positions on the right
    keys: np.ndarray  # uint16 bit mask of the key kinds that brought the pair (KEY_KINDS order)
    levels: np.ndarray | None = None  # int8 (pairs, comparisons), filled by the scorer

    def __len__(self) -> int:
        return len(self.lpos)


class _NameDerivations:
    """Per name code: metaphone code, three-letter prefix code, initial, deletion variants.

    Derived with vectorized string kernels (a national reference has a million distinct names);
    codes are consistent within one link, which is all the keys need.
    """

    def __init__(self, vocab: Vocab) -> None:
        names = vocab.name_list()
        text = pd.Series(names, dtype="string[pyarrow]")
        sounds = [jellyfish.metaphone(x) or x for x in names.tolist()]
        self.sound = pd.factorize(pd.Series(sounds, dtype="string[pyarrow]"))[0].astype(np.int64)
        self.prefix = pd.factorize(text.str.slice(0, 3))[0].astype(np.int64)
        self.initial = pd.factorize(text.str.slice(0, 1))[0].astype(np.int64) + 1
        self.names = names

    def deletions(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(name code, variant code, strict) for the name and each one-deletion variant of it
        (names of 3+ letters; shorter ones are too ambiguous to key on a typo). ``strict``: the
        variant is shorter than the name (the first variant of each name is the name itself)."""
        uniq = pd.unique(codes[codes >= 0])  # hashing: no sort of millions of codes
        words = pd.Series(self.names[uniq], dtype="string[pyarrow]").str.replace(" ", "")
        lengths = words.str.len().to_numpy(dtype=np.int64, na_value=0)
        keep = lengths >= 3
        uniq, lengths = uniq[keep], lengths[keep]
        words = words[keep].reset_index(drop=True)
        src, var = [uniq], [words]
        for i in range(int(lengths.max()) if len(lengths) else 0):
            has = lengths > i
            part = words[has]
            src.append(uniq[has])
            var.append(part.str.slice(0, i) + part.str.slice(i + 1))
        src_all = np.concatenate(src).astype(np.int64)
        var_codes = pd.factorize(pd.concat(var, ignore_index=True))[0].astype(np.int64)
        whole = np.full(int(uniq.max()) + 1 if len(uniq) else 0, -1, dtype=np.int64)
        whole[uniq] = var_codes[: len(uniq)]
        pair = pd.unique((src_all << 32) | var_codes)  # "ll" loses either l: one variant
        src_u, var_u = pair >> 32, pair & 0xFFFFFFFF
        return src_u, var_u, var_u != whole[src_u]


def _state_bits(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, state bit) for every state of every person, in position order."""
    as_bytes = states.astype("<u8").view(np.uint8).reshape(-1, 8)
    pos, bit = np.nonzero(np.unpackbits(as_bytes, axis=1, bitorder="little"))
    return pos.astype(np.int64), bit.astype(np.int64)


def _register_side(
    con: duckdb.DuckDBPyConnection, side: Encoded, tag: str, swapped: bool = False
) -> np.ndarray:
    """Register one side's key ingredients as DuckDB tables; returns its name codes.

    ``swapped``: the side also takes part with first and (main) last name exchanged.
    """
    rows, cols = np.nonzero(side.surnames >= 0)
    # People with a first name but no surname take part with code -1 (first-name keys only).
    rows = np.r_[rows, np.flatnonzero((side.surnames[:, 0] < 0) & (side.first_root >= 0))]
    root = side.first_root[rows].astype(np.int64)  # -1: no first name (surname keys only)
    codes = np.r_[side.surnames[rows[: len(cols)], cols], np.full(len(rows) - len(cols), -1)]
    codes = codes.astype(np.int64)
    written = side.first[rows].astype(np.int64)
    flipped = np.zeros(len(rows), dtype=bool)
    if swapped:
        both = np.flatnonzero((side.first >= 0) & (side.last >= 0) & (side.first != side.last))
        rows = np.r_[rows, both]
        codes = np.r_[codes, side.first[both].astype(np.int64)]
        root = np.r_[root, side.last[both].astype(np.int64)]
        written = np.r_[written, side.last[both].astype(np.int64)]
        flipped = np.r_[flipped, np.ones(len(both), dtype=bool)]
    con.register(
        f"sur_{tag}",
        pd.DataFrame(
            {
                "pos": rows.astype(np.int32),
                "code": codes,
                "root": root,
                "written": written,
                "flipped": flipped,
            }
        ),
    )
    st_pos, st_bit = _state_bits(side.states)
    con.register(f"st_{tag}", pd.DataFrame({"pos": st_pos.astype(np.int32), "bit": st_bit}))
    p_rows, p_cols = np.nonzero(side.places >= 0)
    con.register(
        f"pl_{tag}",
        pd.DataFrame(
            {"pos": p_rows.astype(np.int32), "place": side.places[p_rows, p_cols].astype(np.int64)}
        ),
    )
    # One table per single-valued field: (pos, value) of the people who have one.
    for table, column, values, present in (
        ("sch", "school", side.school, side.school >= 0),
        ("yr", "year", side.year, side.year > 0),
        ("mid", "middle", side.middle_name, side.middle_name >= 0),
        ("npi", "npi", side.npi, side.npi > 0),
    ):
        rows = np.flatnonzero(present)
        frame = {"pos": rows.astype(np.int32), column: values[rows].astype(np.int64)}
        con.register(f"{table}_{tag}", pd.DataFrame(frame))
    return np.r_[codes, written]


def _initials_sql(tag: str) -> str:
    """``ini_{tag}``: each (person, surname) with the initial of the first name as written and,
    where it differs, of the formal name ("Bill" -> b and w). Made once, read by every key with
    an initial."""
    return f"""CREATE OR REPLACE TEMP TABLE ini_{tag} AS SELECT DISTINCT pos, code, initial FROM (
        SELECT s.pos, s.code, w.initial FROM sur_{tag} s JOIN deriv w ON w.code = s.written
        UNION ALL
        SELECT s.pos, s.code, f.initial FROM sur_{tag} s JOIN deriv f ON f.code = s.root)"""


def _keys_sql(tag: str) -> str:
    """Every (person, key kind, key value) of one side; kinds are indexes into KEY_KINDS."""
    kind = {name: i for i, name in enumerate(KEY_KINDS)}
    # ``dup``: for a strict deletion variant, the name it came from. Two people with the same
    # name share all its variants; the pair counts once, through the whole name (whose block
    # is never bigger than a variant's), so the join skips variant rows of equal names.
    dup = "CASE WHEN d.strict THEN d.code ELSE -1 END"
    return f"""
        SELECT pos AS idx, {kind["npi"]} AS kind, npi AS key, -1 AS dup FROM npi_{tag}
        UNION ALL
        SELECT s.pos, {kind["name_sound"]},
               (least(dr.sound, ds.sound) << 28) | greatest(dr.sound, ds.sound), -1
        FROM sur_{tag} s JOIN deriv ds ON ds.code = s.code JOIN deriv dr ON dr.code = s.root
        UNION ALL
        SELECT s.pos, {kind["initial_prefix_state"]},
               (i.initial << 40) | (ds.prefix << 8) | t.bit, -1
        FROM sur_{tag} s JOIN st_{tag} t USING (pos) JOIN deriv ds ON ds.code = s.code
        JOIN deriv i ON i.code = s.root
        UNION ALL
        SELECT s.pos, {kind["initial_prefix_state"]},
               (i.initial << 40) | (ds.prefix << 8) | t.bit, -1
        FROM sur_{tag} s JOIN st_{tag} t USING (pos) JOIN deriv ds ON ds.code = s.code
        JOIN deriv i ON i.code = s.written JOIN deriv dr ON dr.code = s.root
        WHERE i.initial <> dr.initial
        UNION ALL
        SELECT s.pos, {kind["surname_typo"]}, (d.var << 28) | s.root, {dup}
        FROM sur_{tag} s JOIN dels_{tag} d ON d.code = s.code WHERE s.root >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_initial"]}, (s.code << 28) | s.initial, -1
        FROM ini_{tag} s WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_initial_year"]},
               (s.code << 28) | (s.initial << 12) | y.year, -1
        FROM ini_{tag} s JOIN yr_{tag} y USING (pos) WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_middle"]}, (s.code << 28) | m.middle, -1
        FROM sur_{tag} s JOIN mid_{tag} m USING (pos) WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_typo_initial"]}, (d.var << 28) | s.initial, {dup}
        FROM ini_{tag} s JOIN dels_{tag} d ON d.code = s.code
        UNION ALL
        SELECT s.pos, {kind["first_typo"]}, (d.var << 28) | s.code, {dup}
        FROM sur_{tag} s JOIN dels_{tag} d ON d.code = s.written WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_place"]}, (s.code << 28) | p.place, -1
        FROM sur_{tag} s JOIN pl_{tag} p USING (pos) WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["surname_initial_place"]},
               (s.code << 36) | (s.initial << 28) | p.place, -1
        FROM ini_{tag} s JOIN pl_{tag} p USING (pos) WHERE s.code >= 0
        UNION ALL
        SELECT s.pos, {kind["initial_place"]}, (i.initial << 40) | p.place, -1
        FROM (SELECT DISTINCT pos, root FROM sur_{tag} WHERE NOT flipped) s
        JOIN pl_{tag} p USING (pos) JOIN deriv i ON i.code = s.root
        UNION ALL
        SELECT e.pos, {kind["school_place"]}, (e.school << 28) | p.place, -1
        FROM sch_{tag} e JOIN pl_{tag} p USING (pos)"""


def neighbourhood_pairs(
    left: Encoded, right: Encoded, vocab: Vocab, window: int = NEIGHBOURHOOD_WINDOW
) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) positions of the sorted-neighbourhood pairs (see the module docstring)."""
    if window <= 0 or left.n == 0 or right.n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    names = vocab.name_list()
    rank = np.zeros(len(names) + 1, dtype=np.int64)  # the last entry: a missing name (-1)
    rank[np.argsort(names.astype(str), kind="stable")] = np.arange(1, len(names) + 1)
    lpos, rpos = [], []
    offsets = np.r_[-window:0, 0:window]
    for major, minor in (("last", "first"), ("first", "last")):

        def sort_key(side: Encoded, major=major, minor=minor) -> np.ndarray:
            return (rank[getattr(side, major)] << 32) | rank[getattr(side, minor)]

        has_r = np.flatnonzero(right.last >= 0)
        rkey = sort_key(right)[has_r]
        order = np.argsort(rkey, kind="stable")
        sorted_key, sorted_pos = rkey[order], has_r[order]
        has_l = np.flatnonzero((left.last >= 0) & (getattr(left, major) >= 0))
        at = np.searchsorted(sorted_key, sort_key(left)[has_l])
        near = at[:, None] + offsets[None, :]
        ok = (near >= 0) & (near < len(sorted_pos))
        lpos.append(np.broadcast_to(has_l[:, None], near.shape)[ok])
        rpos.append(sorted_pos[near[ok]])
    return np.concatenate(lpos), np.concatenate(rpos)


def _cap_sql(max_block_size: int) -> str:
    cases = " ".join(
        f"WHEN {KEY_KINDS.index(kind)} THEN {min(cap, int(max_block_size))}"
        for kind, cap in KIND_MAX_BLOCK_SIZE.items()
    )
    return f"CASE kind {cases} ELSE {int(max_block_size)} END"


class Blocker:
    """Candidate pairs, chunk by chunk of left records, from keys prepared once.

    Both sides' keys are derived and materialized in DuckDB once (``prepare``); the reference
    side keeps only keys that some left record has, in blocks no bigger than the cap. Each
    ``candidates(start, stop)`` then joins the left records in ``[start, stop)``: a national
    link never holds more than one chunk's pairs. Use as a context manager (it cleans up).
    """

    def __init__(
        self,
        left: Encoded,
        right: Encoded,
        vocab: Vocab,
        con: duckdb.DuckDBPyConnection | None = None,
        max_block_size: int = MAX_BLOCK_SIZE,
    ) -> None:
        self.left, self.right, self.vocab = left, right, vocab
        self.own = con is None
        self.con = con or duckdb.connect()
        self.max_block_size = max_block_size
        self._tables: list[str] = []
        self._insertion_order: bool | None = None

    def __enter__(self) -> Blocker:
        self.prepare()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)
        self._tables.append(name)

    def prepare(self) -> None:
        # The sorted neighbourhood (numpy sorts, outside the GIL) beside DuckDB's keys.
        with ThreadPoolExecutor(1) as aside:
            near = aside.submit(neighbourhood_pairs, self.left, self.right, self.vocab)
            self._prepare_keys(near)

    def _prepare_keys(self, near: Future) -> None:
        con, d = self.con, _NameDerivations(self.vocab)
        con.execute("SET enable_progress_bar = false")
        lcodes = _register_side(con, self.left, "l", swapped=True)
        rcodes = _register_side(con, self.right, "r")
        tables = ("sur", "st", "pl", "npi", "sch", "yr", "mid")
        self._tables += [f"{t}_{s}" for t in tables for s in "lr"]
        src, var, strict = d.deletions(np.r_[lcodes, rcodes])
        # A reference name's variant that no left name has cannot key a pair: the reference
        # side keys only the variants the left side shares (a fraction of a national reference's).
        on_left = np.isin(src, lcodes)
        shared = np.isin(var, var[on_left])
        for tag, rows in (("l", on_left), ("r", shared)):
            self._register(
                f"dels_{tag}",
                pd.DataFrame({"code": src[rows], "var": var[rows], "strict": strict[rows]}),
            )
        self._register(
            "deriv",
            pd.DataFrame(
                {
                    "code": np.arange(len(d.sound), dtype=np.int64),
                    "sound": d.sound.astype(np.int64),
                    "prefix": d.prefix.astype(np.int64),
                    "initial": d.initial,
                }
            ),
        )
        for tag in "lr":
            con.execute(_initials_sql(tag))
        # Reference keys that some left record shares, in small blocks only (a left key in a
        # big block finds no partner in ``candidates``: filtering the left keys too costs more
        # than it saves). No DISTINCT on the left and no ORDER BY: a repeated left key only
        # repeats pairs, which ``candidates`` folds anyway, and a chunk's range filter is a
        # cheap scan.
        # CTAS without order bookkeeping; a caller's connection gets its setting back (close).
        self._insertion_order = con.execute(
            "SELECT current_setting('preserve_insertion_order')"
        ).fetchone()[0]
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"CREATE OR REPLACE TEMP TABLE block_lkeys AS {_keys_sql('l')}")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE block_rkeys AS
                SELECT r.* FROM ({_keys_sql("r")}) r
                SEMI JOIN block_lkeys USING (kind, key)"""
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE block_small AS
                SELECT kind, key FROM block_rkeys GROUP BY kind, key
                HAVING count(*) <= {_cap_sql(self.max_block_size)}"""
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE block_rkeys AS
               SELECT r.* FROM block_rkeys r SEMI JOIN block_small USING (kind, key)"""
        )
        near_l, near_r = near.result()
        self._register("near", pd.DataFrame({"l": near_l, "r": near_r}))

    def candidates(self, start: int = 0, stop: int | None = None) -> Candidates:
        """Distinct pairs of the left records ``start <= l < stop`` with the kinds that
        brought them, ordered by (l, r)."""
        stop = self.left.n if stop is None else stop
        found = self.con.execute(
            f"""SELECT lk.idx AS l, r.idx AS r, lk.kind FROM block_lkeys lk
                JOIN block_rkeys r USING (kind, key)
                WHERE lk.idx >= {int(start)} AND lk.idx < {int(stop)}
                  AND NOT (lk.dup >= 0 AND lk.dup = r.dup)
                UNION ALL
                SELECT l, r, {KEY_KINDS.index("neighbourhood")} FROM near
                WHERE l >= {int(start)} AND l < {int(stop)}"""
        ).fetchnumpy()
        # Distinct pairs with the bit mask of the kinds that found them, sorted by (l, r):
        # (l, r, kind) packed in one integer and sorted in place (a sort of plain integers is
        # several times faster than an argsort and a gather).
        r_bits = max(int(self.right.n).bit_length(), 1)
        packed = np.asarray(found["l"], np.int64) << (r_bits + _KIND_BITS)
        packed |= np.asarray(found["r"], np.int64) << _KIND_BITS
        packed |= np.asarray(found["kind"], np.int64)
        packed.sort()
        pair = packed >> _KIND_BITS
        bits = np.left_shift(np.uint16(1), (packed & _KIND_MASK).astype(np.uint16))
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else pair
        keys = np.bitwise_or.reduceat(bits, starts) if len(pair) else bits
        pair = pair[starts]
        r_mask = (1 << r_bits) - 1
        return Candidates(lpos=pair >> r_bits, rpos=pair & r_mask, keys=keys.astype(np.uint16))

    def close(self) -> None:
        for table in ("block_lkeys", "block_rkeys", "block_small", "ini_l", "ini_r"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        for table in self._tables:
            self.con.unregister(table)
        self._tables = []
        if self.own:
            self.con.close()
        elif self._insertion_order is not None:
            self.con.execute(f"SET preserve_insertion_order = {bool(self._insertion_order)}")


def block_candidates(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    con: duckdb.DuckDBPyConnection | None = None,
    max_block_size: int = MAX_BLOCK_SIZE,
) -> Candidates:
    """All candidate pairs at once (``Blocker`` in one chunk)."""
    with Blocker(left, right, vocab, con, max_block_size) as blocker:
        return blocker.candidates()


def blocking_report(candidates: Candidates, true_l, true_r) -> pd.DataFrame:
    """Pair count and recall of labelled true pairs, per key kind and for all keys together."""
    true_key = (np.asarray(true_l, np.int64) << 32) | np.asarray(true_r, np.int64)
    pair_key = (candidates.lpos << 32) | candidates.rpos
    order = np.argsort(pair_key)
    pair_key, masks = pair_key[order], candidates.keys[order]
    at = np.searchsorted(pair_key, true_key)
    at_ok = np.minimum(at, max(len(pair_key) - 1, 0))
    found = (at < len(pair_key)) & (pair_key[at_ok] == true_key) if len(pair_key) else at < 0
    true_masks = np.where(found, masks[at_ok] if len(masks) else 0, 0)
    rows = []
    n_true = max(len(true_key), 1)
    for k, kind in enumerate(KEY_KINDS):
        bit = np.uint16(1 << k)
        rows.append(
            {
                "key": kind,
                "pairs": int(((masks & bit) != 0).sum()),
                "recall": float(((true_masks & bit) != 0).sum() / n_true),
                "only_this_key": int((true_masks == bit).sum()),
            }
        )
    rows.append(
        {
            "key": "all",
            "pairs": len(pair_key),
            "recall": float(found.sum() / n_true),
            "only_this_key": 0,
        }
    )
    return pd.DataFrame(rows)
