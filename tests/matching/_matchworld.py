"""Small hand-made Swedish registers for matching tests (our own names: not the sample world's)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from passerlink.features import luhn_check_digit
from passerlink.people import CANONICAL_COLUMNS

GIVEN = ["Anna", "Eva", "Maria", "Karin", "Sara", "Emma", "Ida", "Lena", "Malin", "Sofia", "Elin", "Helena",
         "Lars", "Per", "Karl", "Mikael", "Johan", "Erik", "Anders", "Nils", "Olof", "Jan", "Magnus", "Peter",
         "Filip", "Tomas", "Mattias", "Kristina", "Charlotte", "Margareta", "Bo", "Gustav", "Linnea", "Astrid"]
FAMILY = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
          "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Wahlqvist", "Björk", "Sjöström",
          "Åberg", "Lundgren", "Holm", "Bergström", "Lindqvist", "Ek", "Forsberg", "Sandberg", "Hedlund"]
NICK = {"Lars": "Lasse", "Karl": "Kalle", "Mikael": "Micke", "Jan": "Janne", "Per": "Pelle", "Olof": "Olle",
        "Bo": "Bosse", "Kristina": "Kicki", "Charlotte": "Lotta", "Margareta": "Maggan", "Nils": "Nisse"}


def pnr(date8: str, serial3: str) -> str:
    return date8 + serial3 + luhn_check_digit(date8[2:] + serial3)


def frame(rows: list[dict], source: str) -> pd.DataFrame:
    out = []
    for r in rows:
        row = dict.fromkeys(CANONICAL_COLUMNS, "")
        row["source"] = source
        row.update(r)
        out.append(row)
    return pd.DataFrame(out, columns=CANONICAL_COLUMNS)


def _fold_ascii(s: str) -> str:
    return s.replace("å", "a").replace("ä", "a").replace("ö", "o").replace("Å", "A").replace("Ä", "A").replace("Ö", "O")


def registers(n: int = 300, seed: int = 0, *, unmatched_left: int = 20, unmatched_right: int = 20):
    """(hr, m5, truth): ``n`` people in both, plus people only in one of them.

    The M5 side was typed by hand: nicknames, ASCII for å/ä/ö, one part of double names, missing
    birth dates and personnummer, typos in birth dates.
    """
    rng = np.random.default_rng(seed)
    hr, m5, truth = [], [], []
    used = set()
    total = n + unmatched_left + unmatched_right
    for k in range(total):
        while True:
            g = [str(x) for x in rng.choice(GIVEN, size=rng.integers(1, 3), replace=False)]
            fam = str(rng.choice(FAMILY))
            if rng.random() < 0.08:
                fam = fam + "-" + str(rng.choice(FAMILY))
            date = f"{rng.integers(1950, 2004)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}"
            key = (g[0], fam, date)
            if key not in used:
                used.add(key)
                break
        number = pnr(date, f"{rng.integers(100, 999)}")
        person = {"given_names": " ".join(g), "call_name": g[0] if len(g) > 1 and rng.random() < 0.5 else "",
                  "family_name": fam, "birth_date": f"{date[:4]}-{date[4:6]}-{date[6:]}", "personnummer": number,
                  "employee_number": str(10000 + k), "org_unit": str(rng.choice(["Vena skola", "Kansliet", "IT"])),
                  "email": f"{g[0].lower()}.{fam.lower()}{k}@kommun.se"}
        if k < n + unmatched_left:
            hr.append({"source_id": f"h{k}", **person})
        if k < n or k >= n + unmatched_left:
            m = dict(person)
            m["given_names"] = NICK.get(g[0], g[0]) if rng.random() < 0.3 else g[0]
            m["call_name"] = ""
            if rng.random() < 0.3:
                m["family_name"] = _fold_ascii(fam)
            if "-" in fam and rng.random() < 0.5:
                m["family_name"] = fam.split("-")[1]
            if rng.random() < 0.4:
                m["personnummer"] = ""
            if rng.random() < 0.3:
                m["birth_date"] = ""
            elif rng.random() < 0.1:
                m["birth_date"] = m["birth_date"][:-1] + str((int(m["birth_date"][-1]) + 1) % 10)
            if rng.random() < 0.5:
                m["email"] = ""
            if rng.random() < 0.3:
                m["employee_number"] = ""
            m5.append({"source_id": f"m{k}", **m})
            if k < n:
                truth.append((f"h{k}", f"m{k}"))
    order = rng.permutation(len(m5))
    m5 = [m5[i] for i in order]
    return frame(hr, "hr"), frame(m5, "m5"), pd.DataFrame(truth, columns=["left_id", "right_id"])
