"""Regenerate the bad-input corpus in this folder (the files are committed; run this only to
change them): ``python tests/badinput/make_corpus.py``.

Each file is broken in one way that real register exports are broken; ``test_badinput.py``
says what passerlink must answer for each.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

from passerlink.features import luhn_check_digit

HERE = Path(__file__).parent


def pnr(date8: str, serial: str) -> str:
    return date8 + serial + luhn_check_digit(date8[2:] + serial)


HR = "Anställningsnummer;Förnamn;Tilltalsnamn;Efternamn;Personnummer;E-post;Enhet"
P1, P2, P3 = pnr("19800101", "123"), pnr("19751224", "456"), pnr("19620715", "789")
GOOD_ROWS = [
    f"1042;Åsa Maria;Åsa;Öberg;{P1[2:8]}-{P1[8:]};asa.oberg@kommun.se;Ekonomi",
    f"1043;Per Olof;;Ängström;{P2};;Teknik",
    f"1044;Kjell;;Ek;{P3[:8]}-{P3[8:]};kjell.ek@kommun.se;Socialtjänst",
]


def crlf(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def main() -> None:
    # a good file for the config cases, and the cp1252 one that must be read with the right codec
    write("valid_hr.csv", crlf([HR, *GOOD_ROWS]).encode("utf-8"))
    write("hr_cp1252.csv", crlf([HR, *GOOD_ROWS]).encode("cp1252"))
    # 0x81 is invalid as UTF-8 and undefined in Windows-1252
    write("neither_encoding.csv", b"Fornamn;Efternamn\r\nAnna;Berg\r\nBo;Str\x81m\r\n")
    write("bom_utf8.csv", ("\ufeffElev-ID,Förnamn,Efternamn,Skola\n"
                           "e-1,Nils,Åkesson,Hagaskolan\ne-2,Lo,Ström,Norrskolan\n").encode("utf-8"))
    write("header_only.csv", crlf([HR]).encode("utf-8"))
    write("empty.csv", b"")
    write("missing_id_column.csv", crlf([HR, *GOOD_ROWS]).encode("utf-8"))
    write("duplicate_ids.csv", crlf([HR, *GOOD_ROWS, "1042;Anna;;Berg;;;IT"]).encode("utf-8"))
    write("ragged_rows.csv", crlf([HR, GOOD_ROWS[0], "1050;Bo;;Ek", GOOD_ROWS[2]]).encode("utf-8"))
    write("surplus_values.csv", crlf([HR, GOOD_ROWS[0], "1051;Cia;;Al;;;IT;extra;more"]).encode("utf-8"))
    # a register is whole or it is not read (issue 13): cut, ragged, empty ids, two encodings,
    # control and bidi characters
    whole = crlf([HR, *GOOD_ROWS]).encode("utf-8")
    write("truncated.csv", whole[: whole.rindex(b"kjell.ek@") + 5])  # cut mid-row, mid-e-mail
    write("truncated_last_field.csv", whole[: whole.rindex(b"Social") + 6])  # every field there
    write("empty_id.csv", crlf([HR, GOOD_ROWS[0], ";Bo;;Ek;;;IT", GOOD_ROWS[2]]).encode("utf-8"))
    write("mixed_utf8_in_cp1252.csv",
          crlf([HR, *GOOD_ROWS[:2]]).encode("cp1252") + crlf([GOOD_ROWS[2].replace("Ek;", "Åström;")])
          .encode("utf-8"))
    write("mixed_cp1252_in_utf8.csv",
          crlf([HR, *GOOD_ROWS[:2]]).encode("utf-8") + crlf([GOOD_ROWS[2].replace("Ek;", "Åström;")])
          .encode("cp1252"))
    write("bom_with_cp1252_row.csv",
          b"\xef\xbb\xbf" + crlf([HR, *GOOD_ROWS[:2]]).encode("utf-8")
          + crlf([GOOD_ROWS[2].replace("Ek;", "Åström;")]).encode("cp1252"))
    write("control_escape.csv",
          crlf([HR, GOOD_ROWS[0], GOOD_ROWS[1].replace("Ängström", "Ny\x1b[31mberg"), GOOD_ROWS[2]])
          .encode("utf-8"))
    write("control_nul.csv",
          crlf([HR, *GOOD_ROWS[:2], GOOD_ROWS[2].replace("Socialtjänst", "Social\x00tjänst")]).encode("utf-8"))
    write("bidi_override.csv",
          crlf([HR, GOOD_ROWS[0].replace("Åsa Maria", "\u202eAsa"), *GOOD_ROWS[1:]]).encode("utf-8"))
    wb = Workbook()
    ws = wb.active
    ws.append(["Anställningsnummer", "Förnamn", "Efternamn"])
    ws.append(["3001", "Anna", "Berg"])
    ws.append(["3002", "Bo\u2066x", "Ek"])
    wb.save(HERE / "bidi_isolate.xlsx")
    bad = P1[:-1] + str((int(P1[-1]) + 1) % 10)
    write("invalid_personnummer.csv", crlf([HR, f"1060;Anna;;Berg;{bad};;IT", "1061;Bo;;Ek;12345;;IT",
                                            GOOD_ROWS[1]]).encode("utf-8"))
    write("impossible_dates.csv", crlf(["Anstnr;Förnamn;Efternamn;Födelsedatum",
                                        "1;Anna;Berg;2023-02-30", "2;Bo;Ek;1980-13-01",
                                        "3;Cia;Al;1975-05-06"]).encode("utf-8"))
    write("unknown_headers.csv", b"A;B;C\r\n1;2;3\r\n")
    write("csv_renamed.xlsx", crlf([HR, *GOOD_ROWS]).encode("utf-8"))
    write("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")
    write("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    write("zip_not_workbook.xlsx", buf.getvalue())

    wb = Workbook()
    ws = wb.active
    ws.title = "Personal"
    ws.append(["Anställningsnummer", "Förnamn", "Efternamn", "E-post"])
    ws.append(["2001", "Anna", "Berg", '=HYPERLINK("http://evil.example","x")'])
    ws.append(["2002", "=cmd|' /C calc'!A0", "Ek", "bo.ek@kommun.se"])
    ws.append(["2003", "Cia", "Al", "cia.al@kommun.se"])
    wb.save(HERE / "formula_cells.xlsx")

    write("config_missing_env.toml", b'''[[sources]]
name = "hr"
kind = "sql"
url_env = "PASSERLINK_BADINPUT_UNSET_URL"
query = "personal"
''')
    write("config_unknown_key.toml", b'''[[sources]]
name = "hr"
kind = "csv"
path = "valid_hr.csv"
delimiter = ";"
''')
    write("config_wrong_type.toml", b'''[[sources]]
name = "hr"
kind = "excel"
path = "valid_hr.csv"

[m5]
url = "http://127.0.0.1:1/m5adminapi/api"
retries = "many"
''')
    write("config_m5.toml", b'''# M5 reachable only through --m5-url in the tests (unreachable / garbage)
[[sources]]
name = "hr"
kind = "csv"
path = "valid_hr.csv"

[m5]
url = "http://127.0.0.1:1/m5adminapi/api"
retries = 0
timeout_seconds = 3
''')


if __name__ == "__main__":
    main()
