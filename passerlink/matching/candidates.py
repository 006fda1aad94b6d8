"""Candidate generation: the union of several cheap blocking keys, never the full cross product.

Each key is a function of one prepared person (possibly several values per person: every token
of a double family name). Two people become a candidate pair when they share a value of any key,
or are neighbours in the sort order of their folded full names. Blocks that would produce more
than ``max_block_pairs`` pairs (a birth-date key on a table where everyone was born on 1 January)
are skipped for that key only: the other keys still see those people.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from passerlink.features.prepare import PreparedPeople, stable_hash

__all__ = ["BlockingKey", "CandidatePairs", "default_keys", "generate_candidates", "blocking_recall"]

KeyFunc = Callable[[PreparedPeople], tuple[np.ndarray, np.ndarray]]  # -> (row index, uint64 key)


@dataclass(frozen=True)
class BlockingKey:
    name: str
    func: KeyFunc


@dataclass
class CandidatePairs:
    """Candidate pairs as two index arrays into the left and right tables (sorted, unique)."""

    il: np.ndarray
    ir: np.ndarray
    per_key: dict[str, int] = field(default_factory=dict)  # pairs each key produced (before union)
    skipped_blocks: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.il)


def _single(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = stable_hash(np.asarray(values, dtype=object))
    rows = np.nonzero(h)[0]
    return rows, h[rows]


def _multi(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash columns of a ``(n, k)`` uint64 array: every non-zero value is one key of its row."""
    n, k = matrix.shape
    rows = np.repeat(np.arange(n), k)
    keys = matrix.ravel()
    ok = keys != 0
    return rows[ok], keys[ok]


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Order-dependent mix of two uint64 hashes (0 stays 0 when either is 0)."""
    with np.errstate(over="ignore"):
        mixed = (a * np.uint64(0x9E3779B97F4A7C15)) ^ (b + np.uint64(0x632BE59BD9B4E019) + (a << np.uint64(6)))
    mixed[(a == 0) | (b == 0)] = 0
    return mixed


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every column of ``a`` combined with every column of ``b``: ``(n, ka*kb)``."""
    cols = [_combine(a[:, i], b[:, j]) for i in range(a.shape[1]) for j in range(b.shape[1])]
    return np.stack(cols, axis=1) if cols else np.zeros((a.shape[0], 0), dtype=np.uint64)


def _dob_hash(p: PreparedPeople, parts: slice) -> np.ndarray:
    return stable_hash(np.array([d[parts] if d else "" for d in p.dob], dtype=object))


def _key_birth_date(p: PreparedPeople):
    return _single(p.dob)


def _key_birth_date_swapped(p: PreparedPeople):
    swapped = np.array([d[:4] + d[6:8] + d[4:6] if d else "" for d in p.dob], dtype=object)
    both = np.stack([stable_hash(p.dob), stable_hash(swapped)], axis=1)
    return _multi(both)


def _key_names(p: PreparedPeople):
    """Phonetic family token x phonetic given token, in both orders (catches swapped names)."""
    fam, giv = p.family_phon_hash, p.given_phon_hash[:, :2]
    lo = np.minimum(fam[:, :, None], giv[:, None, :]).reshape(len(p), -1)
    hi = np.maximum(fam[:, :, None], giv[:, None, :]).reshape(len(p), -1)
    return _multi(_combine(lo, hi))


def _key_family_year(p: PreparedPeople):
    year = _dob_hash(p, slice(0, 4))
    return _multi(_cross(p.family_phon_hash, year[:, None]))


def _key_given_day(p: PreparedPeople):
    """Name in use + birth month and day: finds people who changed family name."""
    mmdd = _dob_hash(p, slice(4, 8))
    return _multi(_cross(p.given_groups[:, :3], mmdd[:, None]))


def _key_family_given_initial(p: PreparedPeople):
    initial = stable_hash(np.array([g[:1] for g in p.in_use], dtype=object))
    return _multi(_cross(p.family_token_hash, initial[:, None]))


def _anagram(names: np.ndarray) -> np.ndarray:
    return np.array(["".join(sorted(n.replace(" ", ""))) if len(n) >= 3 else "" for n in names], dtype=object)


def _key_anagram(p: PreparedPeople):
    """Sorted letters of both names, in either order: catches transposed letters in both names."""
    a, b = stable_hash(_anagram(p.family_full)), stable_hash(_anagram(p.in_use))
    return _single_hash(_combine(np.minimum(a, b), np.maximum(a, b)))


def _single_hash(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.nonzero(h)[0]
    return rows, h[rows]


def _key_personnummer(p: PreparedPeople):
    return _single(np.array(["".join(map(str, row)) if row[0] >= 0 else "" for row in p.pnr_digits], dtype=object))


def _key_email(p: PreparedPeople):
    return _single(p.email_local)


def _key_employee(p: PreparedPeople):
    return _single(p.employee)


def _extra_key(field_name: str) -> KeyFunc:
    def func(p: PreparedPeople):
        return _single(p.extra[field_name])

    return func


def default_keys(left: PreparedPeople, right: PreparedPeople) -> list[BlockingKey]:
    keys = [
        BlockingKey("birth_date", _key_birth_date_swapped),
        BlockingKey("names", _key_names),
        BlockingKey("family_year", _key_family_year),
        BlockingKey("given_day", _key_given_day),
        BlockingKey("family_initial", _key_family_given_initial),
        BlockingKey("anagram", _key_anagram),
    ]
    for f in sorted(set(left.extra) & set(right.extra)):  # extra fields (benchmarks): exact value
        keys.append(BlockingKey(f"extra:{f}", _extra_key(f)))
    for name, func, present in (
        ("personnummer", _key_personnummer, lambda q: (q.pnr_digits[:, 0] >= 0).any()),
        ("email", _key_email, lambda q: (q.email_local != "").any()),
        ("employee_number", _key_employee, lambda q: (q.employee != "").any()),
    ):
        if present(left) and present(right):
            keys.append(BlockingKey(name, func))
    return keys


def _join(lrows, lkeys, rrows, rkeys, max_block_pairs: int) -> tuple[np.ndarray, np.ndarray, int]:
    if len(lkeys) == 0 or len(rkeys) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    lk = pd.DataFrame({"k": lkeys, "l": lrows}).drop_duplicates()
    rk = pd.DataFrame({"k": rkeys, "r": rrows}).drop_duplicates()
    lc, rc = lk["k"].value_counts(), rk["k"].value_counts()
    sizes = lc.mul(rc, fill_value=0)
    too_big = sizes.index[sizes > max_block_pairs]
    if len(too_big):
        lk = lk[~lk["k"].isin(too_big)]
        rk = rk[~rk["k"].isin(too_big)]
    m = lk.merge(rk, on="k", how="inner")
    return m["l"].to_numpy(np.int64), m["r"].to_numpy(np.int64), len(too_big)


def _sort_key(p: PreparedPeople, swapped: bool) -> np.ndarray:
    first = p.family_full if not swapped else p.in_use
    second = p.in_use if not swapped else p.family_full
    return np.array([f"{a} {b}".strip() for a, b in zip(first, second, strict=True)], dtype=object)


def _neighbours(lk: np.ndarray, rk: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of a left and a right key at most ``window`` places apart in sorted order."""
    keys = np.concatenate([lk, rk])
    side = np.concatenate([np.zeros(len(lk), np.int8), np.ones(len(rk), np.int8)])
    idx = np.concatenate([np.arange(len(lk)), np.arange(len(rk))])
    ok = keys != ""
    keys, side, idx = keys[ok], side[ok], idx[ok]
    order = np.argsort(keys.astype(str), kind="stable")
    side, idx = side[order], idx[order]
    ls, rs = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for off in range(1, min(window, len(side) - 1) + 1):
        a, b = slice(0, len(side) - off), slice(off, len(side))
        s1, s2, i1, i2 = side[a], side[b], idx[a], idx[b]
        lr = (s1 == 0) & (s2 == 1)
        rl = (s1 == 1) & (s2 == 0)
        ls += [i1[lr], i2[rl]]
        rs += [i2[lr], i1[rl]]
    return np.concatenate(ls).astype(np.int64), np.concatenate(rs).astype(np.int64)


def generate_candidates(
    left: PreparedPeople,
    right: PreparedPeople,
    *,
    keys: list[BlockingKey] | None = None,
    window: int = 4,
    max_block_pairs: int = 2500,
) -> CandidatePairs:
    """The union of all blocking keys plus a sorted neighbourhood on folded full names."""
    if len(left) == 0 or len(right) == 0:
        return CandidatePairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
    keys = default_keys(left, right) if keys is None else keys
    parts_l, parts_r, per_key, skipped = [], [], {}, {}
    for key in keys:
        lrows, lkeys = key.func(left)
        rrows, rkeys = key.func(right)
        il, ir, n_skipped = _join(lrows, lkeys, rrows, rkeys, max_block_pairs)
        parts_l.append(il)
        parts_r.append(ir)
        per_key[key.name] = len(il)
        if n_skipped:
            skipped[key.name] = n_skipped
    if window > 0:  # family-given order, given-family order, and the two crossed (swapped sources)
        for name, ls, rs in (
            ("sorted_names", False, False),
            ("sorted_names_given_first", True, True),
            ("sorted_names_crossed", False, True),
        ):
            il, ir = _neighbours(_sort_key(left, ls), _sort_key(right, rs), window)
            parts_l.append(il)
            parts_r.append(ir)
            per_key[name] = len(il)
    il = np.concatenate(parts_l) if parts_l else np.zeros(0, np.int64)
    ir = np.concatenate(parts_r) if parts_r else np.zeros(0, np.int64)
    code = np.unique(il * np.int64(max(len(right), 1)) + ir)
    width = np.int64(max(len(right), 1))
    return CandidatePairs(code // width, code % width, per_key, skipped)


def blocking_recall(
    candidates: CandidatePairs,
    truth_il: np.ndarray,
    truth_ir: np.ndarray,
    *,
    n_right: int,
) -> Mapping[str, float]:
    """Share of the true pairs that are among the candidates (``recall``) and the reduction ratio."""
    width = np.int64(max(n_right, 1))
    cand = candidates.il * width + candidates.ir
    true = np.asarray(truth_il, np.int64) * width + np.asarray(truth_ir, np.int64)
    found = np.isin(true, cand)
    return {
        "recall": float(found.mean()) if len(true) else 1.0,
        "missed": int((~found).sum()),
        "pairs": int(len(cand)),
        "true_pairs": int(len(true)),
    }
