"""The pure choices behind the SS 12000 reader: the current span by date, the e-mail by type."""

from __future__ import annotations

import datetime as _dt

import pytest

from passerlink.sources._ss12000_pick import current_span, is_leaver, is_protected, pick_email

TODAY = _dt.date(2026, 11, 1)


def span(start: str | None, end: str | None = None, **kw: object) -> dict[str, object]:
    item: dict[str, object] = {"unit": f"{start}..{end}", **kw}
    if start is not None:
        item["startDate"] = start
    if end is not None:
        item["endDate"] = end
    return item


@pytest.mark.parametrize(
    ("items", "chosen", "future"),
    [
        ([span("2020-08-01", "2022-06-15")], None, None),  # ended: a former pupil
        ([span("2020-08-01", "2026-11-01")], "2020-08-01..2026-11-01", False),  # last day holds
        ([span("2026-11-01")], "2026-11-01..None", False),  # first day holds
        ([span("2026-11-02")], "2026-11-02..None", True),  # tomorrow: a future start
        ([span("2027-01-08"), span("2026-12-01")], "2026-12-01..None", True),  # the next to begin
        ([span("2024-08-01", "2027-06-01"), span("2026-10-01")], "2026-10-01..None", False),  # latest start
        ([span("2026-10-01", cancelled=True), span("2019-08-01")], "2019-08-01..None", False),  # cancelled never
        ([span(None)], "None..None", False),  # no start: begun long ago
        ([span("not a date")], "not a date..None", False),
        ([span("2024-08-01", "2027-06-01"), span("2026-01-01", "2026-06-01")], "2024-08-01..2027-06-01", False),
        (["not an object", span("2025-08-01")], "2025-08-01..None", False),
        ([], None, None),
    ],
)
def test_current_span(items: list[object], chosen: str | None, future: bool | None) -> None:
    got = current_span(items, TODAY)
    assert (got.item["unit"] if got else None, got.future if got else None) == (chosen, future)


SCHOOL = {"value": "a@skola.se", "type": "Skola elev"}
STAFF = {"value": "b@kommun.se", "type": "Skola personal"}
OTHER = {"value": "c@kommun.se", "type": "Arbete övrigt"}
PRIVATE = {"value": "d@example.com", "type": "Privat"}


@pytest.mark.parametrize(
    ("emails", "role", "private_ok", "chosen"),
    [
        ([PRIVATE, SCHOOL], "pupil", False, "a@skola.se"),
        ([PRIVATE, OTHER, STAFF], "staff", False, "b@kommun.se"),
        ([PRIVATE, STAFF], "pupil", False, "b@kommun.se"),  # another non-private type
        ([PRIVATE, {"value": "e@x.se"}], "pupil", False, "e@x.se"),  # untyped is not private
        ([PRIVATE], "pupil", False, ""),
        ([PRIVATE], "pupil", True, "d@example.com"),
        ([{"value": " ", "type": "Skola elev"}, OTHER], "pupil", False, "c@kommun.se"),  # blank skipped
        (["x", None], "staff", True, ""),
    ],
)
def test_pick_email(emails: list[object], role: str, private_ok: bool, chosen: str) -> None:
    assert pick_email(emails, role, private_ok=private_ok) == chosen  # type: ignore[arg-type]


def test_markings_and_status() -> None:
    assert [is_protected(m) for m in (None, "", "Ingen", "Sekretessmarkering", "Skyddad folkbokföring", "Okänd")] == [
        False, False, False, True, True, True]
    assert not is_protected("Sekretessmarkering", confidential_protects=False)
    assert is_protected("Skyddad folkbokföring", confidential_protects=False)
    assert [is_leaver(s) for s in ("Aktiv", "Avliden", "Utvandrad", None)] == [False, True, True, False]
