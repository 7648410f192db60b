"""Blocking: candidate pairs that share at least one compound key, joined in DuckDB.

Keys (each a kind and a 64-bit value; the parts are integer codes of per-value derivations):

- ``npi``: the NPI shown on the page equals the person's NPI.
- ``name_sound``: the order-free pair {metaphone(formal first name), metaphone(surname)}, so
  "Bob Smith", "Robert Smyth" and "Smith, Robert" swapped into the wrong fields share it.
- ``initial_prefix_state``: first initial (as written and of the formal name) + first three
  letters of the surname + a state.
- ``typo_state``: one-deletion variants of the surname + first initial + a state (two spellings
  one typo apart always share a deletion variant, even when the typo changes sound and prefix).
- ``prefix_first``: surname prefix + formal first name, with no state (movers with a typo).
- ``surname_state``: the whole surname + a state (a nickname the vocabulary does not know).

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
    "typo_state",
    "prefix_first",
    "surname_state",
)
MAX_BLOCK_SIZE = 400


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


def _side_keys(side: Encoded, d: _NameDerivations) -> pd.DataFrame:
    frames = []

    def add(kind: str, pos: np.ndarray, key: np.ndarray) -> None:
        frames.append(
            pd.DataFrame(
                {
                    "idx": pos.astype(np.int32),
                    "kind": np.int8(KEY_KINDS.index(kind)),
                    "key": key.astype(np.int64),
                }
            )
        )

    has_npi = np.flatnonzero(side.npi > 0)
    add("npi", has_npi, side.npi[has_npi])

    # (person, surname code) for every surname the person goes by.
    rows, cols = np.nonzero(side.surnames >= 0)
    sur = side.surnames[rows, cols].astype(np.int64)
    root = side.first_root[rows].astype(np.int64)
    ok = root >= 0
    s_pos, s_code, s_root = rows[ok], sur[ok], root[ok]
    a, b = d.sound[s_root], d.sound[s_code]
    add("name_sound", s_pos, (np.minimum(a, b) << 28) | np.maximum(a, b))
    add("prefix_first", s_pos, (d.prefix[s_code] << 28) | s_root)

    # The same with each state of the person.
    st_pos, st_bit = _state_bits(side.states)
    if len(st_pos) and len(s_pos):
        written = side.first[s_pos].astype(np.int64)
        by_person = pd.DataFrame(
            {
                "pos": s_pos,
                "code": s_code,
                "initial": d.initial[s_root],
                "written": np.where(written >= 0, d.initial[np.maximum(written, 0)], 0),
            }
        )
        with_state = by_person.merge(pd.DataFrame({"pos": st_pos, "bit": st_bit}), on="pos")
        pos = with_state["pos"].to_numpy()
        code = with_state["code"].to_numpy()
        initial = with_state["initial"].to_numpy()
        bit = with_state["bit"].to_numpy()
        add("initial_prefix_state", pos, (initial << 40) | (d.prefix[code] << 8) | bit)
        other = with_state["written"].to_numpy() != initial
        add(
            "initial_prefix_state",
            pos[other],
            (with_state["written"].to_numpy()[other] << 40)
            | (d.prefix[code[other]] << 8)
            | bit[other],
        )
        add("surname_state", pos, (code << 8) | bit)
        src, var = d.deletions(code)
        if len(src):
            variants = pd.DataFrame({"code": src, "var": var})
            typo = pd.DataFrame({"pos": pos, "code": code, "initial": initial, "bit": bit}).merge(
                variants, on="code"
            )
            add(
                "typo_state",
                typo["pos"].to_numpy(),
                (typo["var"].to_numpy() << 16) | (typo["initial"].to_numpy() << 8) | typo["bit"],
            )
    return pd.concat(frames, ignore_index=True)


def block_candidates(
    left: Encoded,
    right: Encoded,
    vocab: Vocab,
    con: duckdb.DuckDBPyConnection | None = None,
    max_block_size: int = MAX_BLOCK_SIZE,
) -> Candidates:
    """Distinct (left, right) pairs sharing at least one key, with the kinds that brought them."""
    d = _NameDerivations(vocab)
    lkeys, rkeys = _side_keys(left, d), _side_keys(right, d)
    own = con is None
    con = con or duckdb.connect()
    try:
        con.register("block_lkeys", lkeys)
        con.register("block_rkeys", rkeys)
        result = con.execute(
            f"""WITH small AS (
                    SELECT kind, key FROM block_rkeys GROUP BY kind, key
                    HAVING count(*) <= {int(max_block_size)}),
                 rk AS (SELECT r.* FROM block_rkeys r SEMI JOIN small USING (kind, key)),
                 lk AS (SELECT DISTINCT idx, kind, key FROM block_lkeys)
                SELECT lk.idx AS l, rk.idx AS r,
                       CAST(bit_or(CAST(1 AS UTINYINT) << lk.kind) AS UTINYINT) AS keys
                FROM lk JOIN rk USING (kind, key)
                GROUP BY ALL ORDER BY l, r"""
        ).fetchnumpy()
        con.unregister("block_lkeys")
        con.unregister("block_rkeys")
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
