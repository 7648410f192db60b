"""Blocking: candidate pairs that share at least one compound key, joined in DuckDB.

Keys (each a kind and a 64-bit value; the parts are integer codes of per-value derivations):

- ``npi``: the NPI shown on the page equals the person's NPI.
- ``name_sound``: the order-free pair {metaphone(formal first name), metaphone(surname)}, so
  "Bob Smith", "Robert Smyth" and "Smith, Robert" swapped into the wrong fields share it.
- ``initial_prefix_state``: first initial (as written and of the formal name) + first three
  letters of the surname + a state.
- ``typo_first``: one-deletion variants of the surname + the formal first name (two spellings
  one typo apart always share a deletion variant, even when the typo changes sound and prefix,
  and the person may have moved).
- ``surname_place``: the whole surname + a city or ZIP (a nickname the vocabulary does not
  know, in the same place).
- ``initial_place``: first initial + a city or ZIP (a surname changed or mistyped beyond the
  other keys, in the same place).

Every surname a person goes by takes part: the main one, other/former names (NPPES "other last
name", maiden names) and the parts of a compound surname. A key value shared by more than
``MAX_BLOCK_SIZE`` people on the reference side is dropped (think "smith|j|NY"): it cannot tell
people apart, and the other keys still reach the true pair.
"""

from __future__ import annotations

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
    "typo_first",
    "surname_place",
    "initial_place",
)
MAX_BLOCK_SIZE = 400
# A first initial in a busy city is a weak key: it only counts in small blocks.
KIND_MAX_BLOCK_SIZE = {"initial_place": 20}


@dataclass
class Candidates:
    lpos: np.ndarray  # int64 positions on the left
    rpos: np.ndarray  # int64 positions on the right
    keys: np.ndarray  # uint8 bit mask of the key kinds that brought the pair (KEY_KINDS order)
    levels: np.ndarray | None = None  # int8 (pairs, comparisons), filled by the scorer

    def __len__(self) -> int:
        return len(self.lpos)


class _NameDerivations:
    """Per name code: metaphone code, three-letter prefix code, initial, deletion variants."""

    def __init__(self, vocab: Vocab) -> None:
        names = vocab.name_list()
        table: dict[str, int] = {}
        self.sound = np.array([Vocab.code(table, jellyfish.metaphone(x) or x) for x in names])
        self.prefix = np.array([Vocab.code(table, "p:" + x[:3]) for x in names])
        self.initial = np.array([ord(x[0]) if x else 0 for x in names], dtype=np.int64)
        self.names = names
        self.table = table

    def deletions(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(name code, variant code) for every one-deletion variant of surnames of 4+ letters."""
        src, var = [], []
        for code in np.unique(codes[codes >= 0]).tolist():
            word = self.names[code].replace(" ", "")
            if len(word) < 4:
                continue
            for variant in {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}:
                src.append(code)
                var.append(Vocab.code(self.table, "d:" + variant))
        return np.asarray(src, dtype=np.int64), np.asarray(var, dtype=np.int64)


def _state_bits(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, state bit) for every state of every person."""
    pos, bit = [], []
    for b in range(64):
        has = np.flatnonzero(states & np.uint64(1 << b))
        if len(has):
            pos.append(has)
            bit.append(np.full(len(has), b, dtype=np.int64))
    if not pos:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(pos), np.concatenate(bit)


def _register_side(con: duckdb.DuckDBPyConnection, side: Encoded, tag: str) -> np.ndarray:
    """Register one side's key ingredients as DuckDB tables; returns its surname codes."""
    rows, cols = np.nonzero(side.surnames >= 0)
    root = side.first_root[rows].astype(np.int64)
    ok = root >= 0
    rows, cols, root = rows[ok], cols[ok], root[ok]
    codes = side.surnames[rows, cols].astype(np.int64)
    con.register(
        f"sur_{tag}",
        pd.DataFrame(
            {
                "pos": rows.astype(np.int32),
                "code": codes,
                "root": root,
                "written": side.first[rows].astype(np.int64),
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
    has_npi = np.flatnonzero(side.npi > 0)
    con.register(
        f"npi_{tag}", pd.DataFrame({"pos": has_npi.astype(np.int32), "npi": side.npi[has_npi]})
    )
    return codes


def _keys_sql(tag: str) -> str:
    """Every (person, key kind, key value) of one side; kinds are indexes into KEY_KINDS."""
    kind = {name: i for i, name in enumerate(KEY_KINDS)}
    return f"""
        SELECT pos AS idx, {kind["npi"]} AS kind, npi AS key FROM npi_{tag}
        UNION ALL
        SELECT s.pos, {kind["name_sound"]},
               (least(dr.sound, ds.sound) << 28) | greatest(dr.sound, ds.sound)
        FROM sur_{tag} s JOIN deriv ds ON ds.code = s.code JOIN deriv dr ON dr.code = s.root
        UNION ALL
        SELECT s.pos, {kind["initial_prefix_state"]}, (i.initial << 40) | (ds.prefix << 8) | t.bit
        FROM sur_{tag} s JOIN st_{tag} t USING (pos) JOIN deriv ds ON ds.code = s.code
        JOIN deriv i ON i.code = s.root
        UNION ALL
        SELECT s.pos, {kind["initial_prefix_state"]}, (i.initial << 40) | (ds.prefix << 8) | t.bit
        FROM sur_{tag} s JOIN st_{tag} t USING (pos) JOIN deriv ds ON ds.code = s.code
        JOIN deriv i ON i.code = s.written JOIN deriv dr ON dr.code = s.root
        WHERE i.initial <> dr.initial
        UNION ALL
        SELECT s.pos, {kind["typo_first"]}, (d.var << 28) | s.root
        FROM sur_{tag} s JOIN dels d ON d.code = s.code
        UNION ALL
        SELECT s.pos, {kind["surname_place"]}, (s.code << 28) | p.place
        FROM sur_{tag} s JOIN pl_{tag} p USING (pos)
        UNION ALL
        SELECT DISTINCT s.pos, {kind["initial_place"]}, (i.initial << 40) | p.place
        FROM sur_{tag} s JOIN pl_{tag} p USING (pos) JOIN deriv i ON i.code = s.root"""


def _cap_sql(max_block_size: int) -> str:
    cases = " ".join(
        f"WHEN {KEY_KINDS.index(kind)} THEN {min(cap, int(max_block_size))}"
        for kind, cap in KIND_MAX_BLOCK_SIZE.items()
    )
    return f"CASE kind {cases} ELSE {int(max_block_size)} END"


def block_candidates(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    con: duckdb.DuckDBPyConnection | None = None,
    max_block_size: int = MAX_BLOCK_SIZE,
) -> Candidates:
    """Distinct (left, right) pairs sharing at least one key, with the kinds that brought them.

    Key ingredients are derived once per distinct name in Python; the keys themselves, the
    block sizes and the join are DuckDB's work.
    """
    d = _NameDerivations(vocab)
    own = con is None
    con = con or duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        lcodes = _register_side(con, left, "l")
        rcodes = _register_side(con, right, "r")
        src, var = d.deletions(np.r_[lcodes, rcodes])
        con.register("dels", pd.DataFrame({"code": src, "var": var}))
        con.register(
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
        # Materialized once each: the keys feed both the block sizes and the join.
        con.execute(f"CREATE OR REPLACE TEMP TABLE block_rkeys AS {_keys_sql('r')}")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE block_lkeys AS
                SELECT DISTINCT * FROM ({_keys_sql("l")})"""
        )
        result = con.execute(
            f"""WITH small AS (
                    SELECT kind, key FROM block_rkeys GROUP BY kind, key
                    HAVING count(*) <= {_cap_sql(max_block_size)}),
                 lk AS (SELECT l.* FROM block_lkeys l SEMI JOIN small USING (kind, key))
                SELECT lk.idx AS l, r.idx AS r,
                       CAST(bit_or(CAST(1 AS UTINYINT) << lk.kind) AS UTINYINT) AS keys
                FROM lk JOIN block_rkeys r USING (kind, key)
                GROUP BY ALL ORDER BY l, r"""
        ).fetchnumpy()
        con.execute("DROP TABLE block_rkeys")
        con.execute("DROP TABLE block_lkeys")
        for table in (
            "dels",
            "deriv",
            *(f"{t}_{s}" for t in ("sur", "st", "pl", "npi") for s in "lr"),
        ):
            con.unregister(table)
    finally:
        if own:
            con.close()
    return Candidates(
        lpos=np.asarray(result["l"], dtype=np.int64),
        rpos=np.asarray(result["r"], dtype=np.int64),
        keys=np.asarray(result["keys"], dtype=np.uint8),
    )


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
        bit = np.uint8(1 << k)
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
