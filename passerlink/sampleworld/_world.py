"""A whole sample municipality: the two registers, the M5 seed, and the truth that links them."""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd

from passerlink.errors import InputError
from passerlink.sampleworld._m5 import SHARES, build_m5
from passerlink.sampleworld._population import GRADUATE, make_population
from passerlink.sampleworld._pupils import graduate_count
from passerlink.sampleworld._registers import (
    STAFF_DOMAIN,
    EmailBook,
    build_staff,
    build_students,
    staff_frame,
)

__all__ = ["World", "generate_world", "generate_pupil_world", "PUPIL_WORLD_ARGS", "FILE_NAMES", "DEFAULT_TODAY"]

DEFAULT_TODAY = _dt.date(2026, 11, 1)


class _SeedUsers:
    """The seed's users behind the one call ``read_m5`` needs from an M5 client."""

    def __init__(self, users: list[dict]) -> None:
        self._users = users

    def list_users(self) -> list[dict]:
        return self._users

#: the files :meth:`World.write` writes, by role (``divergences`` only when asked for)
FILE_NAMES = {
    "hr": "hr_export.csv",
    "students": "students.csv",
    "m5_seed": "m5_seed.json",
    "truth": "truth_links.csv",
    "divergences": "divergences.csv",
}


@dataclass(frozen=True)
class World:
    """One generated municipality. Frames hold ``str`` only (``""`` for empty) except ``truth``."""

    seed: int
    today: _dt.date
    hr: pd.DataFrame
    students: pd.DataFrame
    m5_seed: dict
    truth: pd.DataFrame  # source, source_id, m5_id
    divergences: pd.DataFrame  # kind, source, source_id, m5_id, register_value, m5_value, other

    def files(self, *, divergences: bool = False) -> dict[str, bytes]:
        """The exact bytes of every file, by file name (what :meth:`write` puts on disk)."""
        files = {
            FILE_NAMES["hr"]: _csv(self.hr, sep=";", encoding="cp1252", newline="\r\n"),
            FILE_NAMES["students"]: _csv(self.students, sep=",", encoding="utf-8-sig", newline="\n"),
            FILE_NAMES["m5_seed"]: _seed_json(self.m5_seed),
            FILE_NAMES["truth"]: _csv(self.truth, sep=",", encoding="utf-8", newline="\n"),
        }
        if divergences:
            files[FILE_NAMES["divergences"]] = _csv(self.divergences, sep=",", encoding="utf-8", newline="\n")
        return files

    def m5_people(self) -> pd.DataFrame:
        """The M5 seed's users as canonical people, read the way ``read_m5`` reads a real M5
        (default ``[m5.columns]``): what benchmarks and tests match the registers against."""
        from passerlink.config import DEFAULT_M5_COLUMNS
        from passerlink.sources import read_m5

        return read_m5(_SeedUsers(self.m5_seed["users"]), DEFAULT_M5_COLUMNS).people

    def write(self, folder: Path | str, *, divergences: bool = False) -> list[Path]:
        """Write the files into ``folder`` (created if missing), each replaced atomically.

        The divergence table is left out unless asked for: it is as large as the registers, and
        ``generate_world`` rebuilds it in a second.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in self.files(divergences=divergences).items():
            target = folder / name
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            written.append(target)
        return written


def _csv(frame: pd.DataFrame, *, sep: str, encoding: str, newline: str) -> bytes:
    text = frame.to_csv(sep=sep, index=False, lineterminator=newline)
    return text.encode(encoding)


def _seed_json(seed: dict) -> bytes:
    """One record per line: small enough to commit, still readable in a diff."""
    parts = ["{"]
    keys = list(seed)
    for k, key in enumerate(keys):
        parts.append(f"  {json.dumps(key)}: [")
        records = seed[key]
        for i, rec in enumerate(records):
            comma = "," if i < len(records) - 1 else ""
            parts.append("    " + json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + comma)
        parts.append("  ]" + ("," if k < len(keys) - 1 else ""))
    parts.append("}")
    return ("\n".join(parts) + "\n").encode("utf-8")


def generate_world(
    seed: int = 0,
    staff: int = 1500,
    pupils: int = 2000,
    manual_share: float = 0.10,
    former_staff: int = 60,
    today: _dt.date = DEFAULT_TODAY,
    pupil_reality: bool = False,
) -> World:
    """Generate a municipality deterministically: the same arguments give the same bytes.

    ``manual_share`` is the share of M5 users that are manual records (contractors, substitutes,
    visitors), so their number follows from the expected count of register people in M5.

    ``pupil_reality`` gives the pupils the reality of a school office (``_pupils``): siblings in
    one school, twins in one class, graduates still in M5 (8 % of the pupil part, some with a
    sibling's given name), M5 pupil records with names and a school written several ways only
    (a birth date for one in ten, a personnummer for a few). ``generate_pupil_world`` is the
    pupils-only world of that kind the pupil benchmark and property tests match.
    """
    for name, value in (("staff", staff), ("pupils", pupils), ("former_staff", former_staff)):
        if not isinstance(value, int | np.integer) or value < 0:
            raise InputError(f"{name} must be a whole number of people, 0 or more, not {value!r}.")
    if not 0 <= manual_share < 1:
        raise InputError(f"manual_share must be at least 0 and below 1, not {manual_share!r}.")
    rng = np.random.default_rng(seed)
    graduates = graduate_count(int(pupils), SHARES["pupils_in_m5"], manual_share) if pupil_reality else 0
    expected = staff * SHARES["staff_in_m5"] + pupils * SHARES["pupils_in_m5"] + former_staff + graduates
    manual = int(round(expected * manual_share / (1 - manual_share)))
    counts = {"staff": int(staff), "former": int(former_staff), "pupil": int(pupils), "manual": manual}
    if pupil_reality:
        counts[GRADUATE] = graduates
    pop = make_population(rng, counts, today, households=pupil_reality)

    space = max(90_000, 10 * (staff + former_staff))
    numbers = 10_000 + rng.choice(space, size=staff + former_staff, replace=False)
    emails = EmailBook(STAFF_DOMAIN)
    former_info = build_staff(rng, pop, pop.indices("former"), today, numbers[staff:], emails, former=True)
    staff_info = build_staff(rng, pop, pop.indices("staff"), today, numbers[:staff], emails, former=False)
    hr = staff_frame(rng, pop, staff_info, today)
    students, pupil_info = build_students(rng, pop, pop.indices("pupil"), today, households=pupil_reality)
    m5_seed, truth, divergences = build_m5(rng, pop, staff_info, pupil_info, former_info, manual_share, today,
                                           pupil_reality=pupil_reality)
    return World(seed=seed, today=today, hr=hr, students=students, m5_seed=m5_seed, truth=truth,
                 divergences=divergences)


#: the pupil-realistic world of the pupil benchmark and property tests: pupils only, 4 % manual
class PupilWorldArgs(TypedDict):
    staff: int
    former_staff: int
    manual_share: float
    pupil_reality: bool


PUPIL_WORLD_ARGS: PupilWorldArgs = {"staff": 0, "former_staff": 0, "manual_share": 0.04, "pupil_reality": True}


def generate_pupil_world(seed: int = 0, pupils: int = 2000, today: _dt.date = DEFAULT_TODAY) -> World:
    """A school register against the pupil part of M5: ``pupils`` pupils in households, graduates
    still in M5 (8 % of its users) and manual records (4 %); no staff. Deterministic per seed."""
    return generate_world(seed=seed, pupils=pupils, today=today, **PUPIL_WORLD_ARGS)
