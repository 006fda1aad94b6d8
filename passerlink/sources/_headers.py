"""Which source column means which canonical field, recognised from the header text.

Registers name the same thing in Swedish, English or M5's own words, with any case, spacing and
diacritics; the synonym lists below are compared after folding (``fold_header``). The order of a
list is its priority: when two columns mean the same field, the earlier synonym wins and the
other column stays in ``PeopleTable.extra``.
"""

from __future__ import annotations

from collections.abc import Iterable

from passerlink.sources._text import fold_header

__all__ = ["SYNONYMS", "MIDDLE_NAME", "ID_SYNONYMS", "recognise_headers", "recognised_ranks"]

#: Pseudo-field for a middle-name (mellannamn) column: put before the family name, since a
#: Swedish mellannamn is the first part of a two-part family name.
MIDDLE_NAME = "middle_name"

#: Columns that identify a row in their source (student id, FEBRL record id, a plain id).
ID_SYNONYMS: list[str] = ["sourceid", "elevid", "elevnummer", "recid", "personid", "id", "uuid"]

#: canonical field -> folded header synonyms, highest priority first.
SYNONYMS: dict[str, list[str]] = {
    "source_id": ID_SYNONYMS,
    "given_names": [
        "fornamn", "fornamnen", "samtligafornamn", "allafornamn",
        "givenname", "givennames", "firstname", "firstnames", "forename", "forenames",
    ],
    MIDDLE_NAME: ["mellannamn", "middlename", "middlenames"],
    "call_name": [
        "tilltalsnamn", "tilltal", "callname", "preferredname", "preferredfirstname", "knownas",
    ],
    "family_name": ["efternamn", "familyname", "surname", "lastname", "lastnames"],
    "birth_date": [
        "fodelsedatum", "fodelsedag", "fodd", "birthdate", "dateofbirth", "dob", "birthday",
    ],
    # FEBRL's soc_sec_id is an Australian-style number, not a personnummer: deliberately absent.
    "personnummer": [
        "personnummer", "personnr", "pnr", "persnr", "personnumret", "personidnummer",
        "personnummersamordningsnummer", "civicno", "civicnumber", "personalidentitynumber",
    ],
    "email": [
        "epost", "epostadress", "email", "emailaddress", "emailadress", "mail", "mailadress",
    ],
    "org_unit": [
        "enhet", "organisationsenhet", "orgenhet", "kostnadsstalle", "kstalle", "skola",
        "skolenhet", "avdelning", "department", "departmentname", "dept", "orgunit", "unit",
    ],
    "employee_number": [
        "anstallningsnummer", "anstallningsnr", "anstnr", "anstid", "personalnummer",
        "employeenumber", "employeeno", "employeeid", "employmentnumber",
    ],
    # the day the record was created (M5's createddate; an extract's own column)
    "created": ["created", "createddate", "skapad", "skapaddatum", "skapadden"],
}

_LOOKUP: dict[str, tuple[str, int]] = {
    syn: (fld, rank) for fld, syns in SYNONYMS.items() for rank, syn in enumerate(syns)
}


def recognised_ranks(columns: Iterable[str]) -> dict[str, tuple[str, int]]:
    """Source column -> (field or MIDDLE_NAME, priority rank) for every recognised column."""
    out: dict[str, tuple[str, int]] = {}
    for col in columns:
        hit = _LOOKUP.get(fold_header(col))
        if hit is not None:
            out[col] = hit
    return out


def recognise_headers(columns: Iterable[str]) -> dict[str, str]:
    """Source column -> canonical field, for every column whose header is recognised.

    A middle-name (mellannamn) column maps to ``family_name`` (it goes before the family name); an id
    column (Elev-ID, rec_id, id) maps to ``source_id``. Several columns may map to one field:
    ``canonicalize`` picks by priority.
    """
    return {
        col: ("family_name" if fld == MIDDLE_NAME else fld)
        for col, (fld, _rank) in recognised_ranks(columns).items()
    }
