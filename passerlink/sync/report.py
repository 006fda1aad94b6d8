"""Run reports: JSON for machines, HTML (Swedish by default) for people, XLSX for sign-off.

Every run writes all three, dry or not, stopped, failed or crashed (the engine calls this from a
``finally``). Personal data is handled as such: anything that looks like a personnummer is masked
in every text of the report (names, messages, notes, stop reasons), the values of people with
protected identity are never shown, and a report writer never crashes on a string: the XLSX
cells are made XML-safe, cut and formula-guarded (``passerlink.spreadsheet``), the HTML is a
Jinja2 template with autoescape.

Memory stays bounded however large the plan: the XLSX is written by openpyxl's write-only
workbook row by row and holds every change; the HTML shows the first ``HTML_ROW_LIMIT`` changes
and errors with a note pointing to the XLSX; the JSON is written change by change.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import IO, Any

from passerlink.errors import InputError
from passerlink.features import mask_personnummer
from passerlink.redact import PersonnummerLogFilter, mask_logs, mask_text
from passerlink.spreadsheet import guard_text, report_cell

__all__ = [
    "SITUATION_LABELS",
    "HTML_ROW_LIMIT",
    "mask_value",
    "mask_report_text",
    "mask_logs",
    "PersonnummerLogFilter",
    "check_report_dir",
    "safe_cell",
    "render_html",
    "write_reports",
    "prune_reports",
    "list_reports",
    "last_report",
    "load_report",
    "summary_text",
]

log = logging.getLogger(__name__)

#: Changes (and errors) the HTML report lists before it points to the XLSX for the rest.
HTML_ROW_LIMIT = 2000

#: Swedish names of the situations (for the HTML and XLSX reports).
SITUATION_LABELS: dict[str, str] = {
    "new": "Ny i registret – skapad",
    "future_start": "Ny med framtida startdatum – skapad",
    "queued": "Trolig match i M5 – till operatörens kö",
    "changed": "Länkad och ändrad – uppdaterad",
    "known_end": "Känt slutdatum – satt i M5",
    "unchanged": "Länkad och oförändrad",
    "gone": "Borta ur registren – inaktiverad",
    "gone_waiting": "Inaktiverad, väntar på radering",
    "delete": "Raderad efter karenstiden",
    "rehire": "Tillbaka i registret – återaktiverad",
    "deleted_in_m5": "Länkad användare raderad för hand i M5",
    "inactive_in_m5": "I registret men inaktiverad för hand i M5 – lämnad inaktiv",
    "conflict": "Ändrad i M5 under körningen – planerad om",
    "unknown_department": "Okänd avdelning",
    "unknown_usergroup": "Okänd användargrupp",
    "unknown_accessgroup": "Okänd behörighetsgrupp",
    "manual_left_alone": "Manuella poster i M5 – orörda",
}
_KIND_LABELS = {
    "create": "Skapa", "update": "Uppdatera", "deactivate": "Inaktivera", "reactivate": "Återaktivera",
    "delete": "Radera", "queue": "Till kön", "report": "Rapport", "create_department": "Skapa avdelning",
    "create_usergroup": "Skapa användargrupp",
}
_STATUS_LABELS = {
    "done": "Klar", "dry_run": "Provkörning (inget skrivet)", "stopped": "Stoppad av säkerhetsregel",
    "failed": "Misslyckades", "locked": "Upptagen (en annan körning pågår)",
}
_OP_STATUS = {"planned": "Planerad", "done": "Utförd", "failed": "Misslyckad", "skipped": "Ej utförd"}

_PNR = re.compile(r"^(?:\d{2})?\d{6}[-+]?\d{4}$")
_NAME = re.compile(r"^sync-(\d{8}-\d{6})(\d{3})?-[0-9a-f]+\.json$")
#: Keys whose values are machine text (ids, times, paths): never masked.
_MACHINE_KEYS = frozenset({"run_id", "started", "finished", "files", "config", "kind", "situation",
                           "status", "rule", "m5_id", "user", "duration_seconds", "plan_id",
                           "key"})  # a register keyed by personnummer has a keyed hash as its id


def mask_value(value: Any) -> Any:
    """A personnummer-looking value masked (a whole value, or digit runs inside a text)."""
    if isinstance(value, str):
        if _PNR.match(value.strip()):
            return mask_personnummer(value)
        return mask_text(value)
    return value


def mask_report_text(value: Any) -> Any:
    """``value`` with every personnummer-like text masked, however deep in lists and dicts."""
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, list | tuple):
        return [mask_report_text(v) for v in value]
    if isinstance(value, Mapping):
        return {k: (v if k in _MACHINE_KEYS else mask_report_text(v)) for k, v in value.items()}
    return value


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show as text, never run as a formula (the one guard)."""
    return guard_text(value) if isinstance(value, str) else value


def _sanitize_change(ch: Mapping[str, Any], protected: bool) -> dict[str, Any]:
    if protected:
        return {"field": ch["field"], "before": "***" if ch.get("before") else "",
                "after": "***" if ch.get("after") else ""}
    return {"field": ch["field"], "before": mask_value(ch.get("before", "")),
            "after": mask_value(ch.get("after", ""))}


def _sanitize_op(c: Mapping[str, Any]) -> dict[str, Any]:
    """One change as it may be shown: masked, protected identities without values."""
    out = mask_report_text({k: v for k, v in c.items() if k not in ("changes", "fields")})
    prot = bool(c.get("protected"))
    out["changes"] = [_sanitize_change(ch, prot) for ch in c.get("changes") or []]
    if c.get("fields"):
        out["fields"] = {k: ("***" if prot and v else mask_value(v)) for k, v in c["fields"].items()}
    return out


def _head(report: Mapping[str, Any]) -> dict[str, Any]:
    """Everything of the report but its list of changes, masked."""
    return mask_report_text({k: v for k, v in report.items() if k != "changes"})


def _changes(report: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The changes masked one by one (a million of them are never copied at once)."""
    for c in report.get("changes") or []:
        yield _sanitize_op(c)


def _stamp(report: Mapping[str, Any]) -> str:
    """Local start time to the millisecond: report names sort in the order the runs started."""
    started = _dt.datetime.fromisoformat(str(report["started"])).astimezone()
    return started.strftime("%Y%m%d-%H%M%S") + f"{started.microsecond // 1000:03d}"


def check_report_dir(report_dir: str | Path) -> Path:
    """The report folder, created if missing; ``InputError`` (exit 2) if a report could not be
    written there. The engine calls it before the run takes the lock or writes anything."""
    folder = Path(report_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".passerlink-write-test-{_dt.datetime.now().strftime('%H%M%S%f')}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"{folder}: the report folder ([sync] report_dir) cannot be written "
            f"({exc.strerror or exc}); every run must leave a report, so nothing was done"
        ) from None
    return folder


def write_reports(report: Mapping[str, Any], report_dir: str | Path, *, lang: str = "sv") -> dict[str, Path]:
    """Write ``sync-<time>-<run>.{json,html,xlsx}``; returns the paths by format.

    The HTML and the XLSX are each written in their own ``try``: a writer that fails (a full
    disk) is logged and named in the JSON, which is written last – it is what
    ``report --last`` looks for."""
    folder = Path(report_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the report folder ({exc.strerror})") from None
    head = _head(report)
    base = folder / f"sync-{_stamp(head)}-{str(head['run_id'])[:8]}"
    paths = {"json": base.with_suffix(".json"), "html": base.with_suffix(".html"), "xlsx": base.with_suffix(".xlsx")}
    head["files"] = {k: str(v) for k, v in paths.items()}
    problems: list[str] = []
    for fmt, writer in (("html", _write_html), ("xlsx", _write_xlsx)):
        try:
            writer(head, report, paths[fmt], lang)
        except Exception as exc:  # noqa: BLE001 - one broken writer must not cost the others
            log.error("could not write the %s report %s: %s", fmt, paths[fmt], exc)
            problems.append(f"{fmt}: {type(exc).__name__}: {mask_text(str(exc))[:300]}")
    if problems:
        head["report_problems"] = problems
    tmp = paths["json"].with_suffix(".json.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        _write_json(head, _changes(report), fh)
    tmp.replace(paths["json"])
    return paths


def _write_json(head: Mapping[str, Any], changes: Iterable[Mapping[str, Any]], fh: IO[str]) -> None:
    """The report as one JSON object, its changes written one by one."""
    text = json.dumps(dict(head), ensure_ascii=False, indent=2, default=str)
    fh.write(text[:-1].rstrip())  # without the closing brace
    fh.write(',\n  "changes": [' if head else '{\n  "changes": [')
    for i, c in enumerate(changes):
        fh.write(",\n    " if i else "\n    ")
        fh.write(json.dumps(c, ensure_ascii=False, default=str))
    fh.write("\n  ]\n}\n")


def list_reports(report_dir: str | Path) -> list[Path]:
    folder = Path(report_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _NAME.match(p.name))


def last_report(report_dir: str | Path) -> Path | None:
    reports = list_reports(report_dir)
    return reports[-1] if reports else None


def load_report(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable sync report ({exc})") from None


def prune_reports(report_dir: str | Path, keep_days: int, *, now: _dt.datetime | None = None) -> list[Path]:
    """Delete reports older than ``keep_days`` (by the time in their name); returns what went."""
    now = now or _dt.datetime.now()
    cutoff = now - _dt.timedelta(days=keep_days)
    gone: list[Path] = []
    for js in list_reports(report_dir):
        m = _NAME.match(js.name)
        assert m is not None
        when = _dt.datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
        if when >= cutoff:
            continue
        for p in (js, js.with_suffix(".html"), js.with_suffix(".xlsx")):
            try:
                p.unlink()
                gone.append(p)
            except FileNotFoundError:
                pass
    return gone


def _cut(text: str, limit: int) -> str:
    """A terminal line's part: its start and its length when longer than ``limit``."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


# ---- text summary ---------------------------------------------------------------------------------
def blanking_lines(report: Mapping[str, Any], limit: int = 10) -> list[str]:
    """The plan's blankings (fields emptied that have a value in M5), apart from other updates."""
    blanks = report.get("blankings") or []
    counts = report.get("blanking_counts") or {}
    names = int(counts.get("names", sum(1 for b in blanks if b.get("name"))))
    total = names + int(counts.get("other_fields", sum(1 for b in blanks if not b.get("name"))))
    if not total:
        return []
    lines = [f"blankings (fields emptied that have a value in M5): {total}, of them names {names}"]
    lines += [f"  {b.get('label', '')}: {b.get('field', '')} emptied" for b in blanks[:limit]]
    if total > limit:
        lines.append(f"  ... and {total - min(limit, len(blanks))} more")
    return lines


def plan_lines(report: Mapping[str, Any]) -> list[str]:
    """The plan's id, who approved it, and the auto-links held back for an operator."""
    lines = [f"plan: {report['plan_id']}"] if report.get("plan_id") else []
    held = report.get("held_auto_links") or []
    if held:
        lines.append(f"held for an operator: {len(held)} auto-links onto hand-made M5 records of another user group "
                     "(the people are in the review queue)")
    approval = report.get("approval") or {}
    if approval:
        lines.append(f"approved: plan {approval.get('plan_id')} by {approval.get('approved_by')} at "
                     f"{approval.get('approved_at')} (dry run by {approval.get('planned_by')} at "
                     f"{approval.get('planned_at')})")
    return lines


def summary_text(report: Mapping[str, Any]) -> str:
    """A few lines for the terminal (``passerlink report --last``, end of ``passerlink sync``)."""
    lines = [
        f"run {report.get('run_id', '')[:8]}  {report.get('started', '')}  status: {report.get('status')}"
        f"{'  (dry run)' if report.get('dry_run') else ''}  {report.get('duration_seconds', 0):.1f} s",
        "sources: " + ", ".join(f"{k} {v}" for k, v in (report.get("sources") or {}).items()),
    ]
    counts = report.get("counts") or {}
    if counts:
        lines.append("situations: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    ops = report.get("ops_by_status") or {}
    if ops:
        lines.append("operations: " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))
    lines.append(f"M5 write calls: {report.get('m5_writes', 0)}")
    lines += plan_lines(report)
    for r in report.get("safety") or []:
        if not r.get("ok"):
            state = "overridden" if r.get("overridden") else ("needs approval" if report.get("dry_run") else "STOPPED")
            lines.append(f"safety rule {r['rule']}: {r['message']} [{state}]")
    lines += blanking_lines(report)
    if report.get("stop_reason"):
        lines.append(_cut(str(report["stop_reason"]), 600))
    for w in report.get("warnings") or []:
        lines.append(f"warning: {w}")
    for e in (report.get("errors") or [])[:10]:
        lines.append(f"error: {_cut(str(e.get('label', '')), 120)} {_cut(str(e.get('message', '')), 480)}".strip())
    if len(report.get("errors") or []) > 10:
        lines.append(f"... and {len(report['errors']) - 10} more errors")
    files = report.get("files") or {}
    if files:
        lines.append("report: " + str(files.get("html", "")))
    return "\n".join(lines)


# ---- HTML -----------------------------------------------------------------------------------------
_TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Synkrapport", "heading": "Synkronisering register → RCard M5", "run": "Körning",
        "start": "start", "duration": "tid", "status": "Status", "warning": "Varning",
        "dry_run": "Provkörning: planen visas nedan, ingenting har skrivits till M5.",
        "sources": "Källor", "source": "Källa", "people": "Antal personer", "situations": "Situationer",
        "situation": "Situation", "count": "Antal", "writes": "Skrivningar till M5",
        "safety": "Säkerhetsregler", "rule": "Regel", "result": "Resultat", "value": "Värde", "limit": "Gräns",
        "explanation": "Förklaring", "overridden": "Överstyrd", "stopped": "STOPP",
        "how_to_override": "Planen går över gränserna för massändringar. Om ändringarna är avsiktliga: godkänn "
                           "just den här planen (passerlink sync --approve PLAN-ID, plan-id:t från provkörningen, "
                           "eller Synk-sidans knapp); skript kan använda --allow-mass-changes. En källa som inte "
                           "kan läsas måste rättas först.",
        "errors": "Fel", "person": "Person", "action": "Åtgärd", "error": "Fel", "changes": "Ändringar",
        "m5_id": "M5-id", "fields": "Fält: före → efter",
        "capped": "Visar de första {shown} av {total}; hela listan finns i XLSX-rapporten.",
        "footer": "Manuella poster i M5 (ej länkade, utan markör) har lämnats orörda: {manual}. "
                  "Personnummer visas maskerade; för personer med skyddad identitet visas inga uppgifter.",
        "access_group": "behörighetsgrupp", "block_cards": "spärra kort", "card": "kort",
        "blocked_open": "spärrat → öppet", "note": "anm.",
    },
    "en": {
        "title": "Sync report", "heading": "Sync registers → RCard M5", "run": "Run", "start": "started",
        "duration": "took", "status": "Status", "warning": "Warning",
        "dry_run": "Dry run: the plan is shown below, nothing was written to M5.",
        "sources": "Sources", "source": "Source", "people": "People", "situations": "Situations",
        "situation": "Situation", "count": "Count", "writes": "Write calls to M5", "safety": "Safety rules",
        "rule": "Rule", "result": "Result", "value": "Value", "limit": "Limit", "explanation": "Explanation",
        "overridden": "Overridden", "stopped": "STOP",
        "how_to_override": "The plan goes past the mass-change limits. If the changes are intended, approve "
                           "exactly this plan (passerlink sync --approve PLAN_ID, the id the dry run printed, or "
                           "the Sync page's button); scripts may use --allow-mass-changes. A source that cannot "
                           "be read must be fixed first.",
        "errors": "Errors", "person": "Person", "action": "Action", "error": "Error", "changes": "Changes",
        "m5_id": "M5 id", "fields": "Field: before → after",
        "capped": "Showing the first {shown} of {total}; the XLSX report has the whole list.",
        "footer": "Manual M5 records (not linked, no marker) were left alone: {manual}. Personnummer are "
                  "masked; nothing is shown of people with protected identity.",
        "access_group": "access group", "block_cards": "block cards", "card": "card",
        "blocked_open": "blocked → open", "note": "note",
    },
}


def _details(c: Mapping[str, Any], t: Mapping[str, str]) -> list[str]:
    """The lines of one change's detail cell (plain text: the template escapes)."""
    parts = [f"{ch['field']}: {ch['before'] or '–'} → {ch['after'] or '–'}" for ch in c.get("changes") or []]
    parts += [f"{k}: {v}" for k, v in (c.get("fields") or {}).items() if v]
    parts += [f"+ {t['access_group']} {g}" for g in c.get("add_groups") or []]
    parts += [f"− {t['access_group']} {g}" for g in c.get("remove_groups") or []]
    if c.get("block_cards"):
        parts.append(f"{t['block_cards']} {', '.join(map(str, c['block_cards']))}")
    if c.get("unblock_cards"):
        parts.append(f"{t['card']} {', '.join(map(str, c['unblock_cards']))}: {t['blocked_open']}")
    if c.get("message"):
        parts.append(str(c["message"]))
    parts += [f"{t['note']}: {n}" for n in c.get("notes") or []]
    return parts


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    from passerlink.spreadsheet import REPORT_CELL_LIMIT, xml_safe

    def finalize(value: Any) -> Any:  # every value shown is cut like an XLSX cell, controls shown as U+FFFD
        return _cut(xml_safe(value), REPORT_CELL_LIMIT) if isinstance(value, str) else value

    return Environment(loader=PackageLoader("passerlink.sync", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True), finalize=finalize)


def render_html(head: Mapping[str, Any], changes: Iterable[Mapping[str, Any]] = (), *, lang: str = "sv",
                limit: int = HTML_ROW_LIMIT, changes_total: int | None = None) -> str:
    """The HTML report from the (masked) head and its changes: at most ``limit`` changes and
    errors are listed, with a note saying how many there are."""
    t = _TEXTS.get(lang, _TEXTS["sv"])
    shown_changes = list(islice(changes, limit))
    total = changes_total if changes_total is not None else len(shown_changes)
    errors = list(head.get("errors") or [])
    status = str(head.get("status", ""))
    sv = lang == "sv"

    def label(table: Mapping[str, str], key: Any) -> str:
        return table.get(str(key or ""), str(key or "")) if sv else str(key or "")

    return _environment().get_template("report.html.j2").render(
        r=head, t=t, lang=lang if lang in _TEXTS else "sv",
        status_label=label(_STATUS_LABELS, status),
        counts=sorted((head.get("counts") or {}).items()),
        stopped_by_rule=any(not s.get("ok") and not s.get("overridden") for s in head.get("safety") or []),
        errors=errors[:limit], errors_total=len(errors), errors_left_out=len(errors) > limit,
        changes=shown_changes, changes_total=total, changes_left_out=total > len(shown_changes),
        situation=lambda k: label(SITUATION_LABELS, k), kind=lambda k: label(_KIND_LABELS, k),
        op_status=lambda k: label(_OP_STATUS, k), details=lambda c: _details(c, t),
    )


def _write_html(head: Mapping[str, Any], report: Mapping[str, Any], path: Path, lang: str) -> None:
    total = len(report.get("changes") or [])
    path.write_text(render_html(head, _changes(report), lang=lang, changes_total=total), encoding="utf-8")


# ---- XLSX -----------------------------------------------------------------------------------------
#: Rows per sheet before the list goes on in a next sheet (Excel shows at most 1,048,576).
SHEET_ROWS = 1_000_000


def _sheet(wb: Any, title: str, header: list[str], rows: Iterable[list[Any]], widths: list[int]) -> None:
    """One list in a write-only workbook: rows streamed to disk, every cell made safe; a list
    longer than ``SHEET_ROWS`` goes on in sheets named 'title 2', 'title 3', ..."""
    from openpyxl.utils import get_column_letter

    def new_sheet(number: int) -> Any:
        ws = wb.create_sheet(title if number == 1 else f"{title} {number}")
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.append([report_cell(h) for h in header])
        return ws

    number, count = 1, 0
    ws = new_sheet(number)
    for row in rows:
        if count == SHEET_ROWS:
            number, count = number + 1, 0
            ws = new_sheet(number)
        ws.append([report_cell(v) for v in row])
        count += 1


def _change_rows(changes: Iterable[Mapping[str, Any]], label: Callable[[Mapping[str, str], Any], Any]
                 ) -> Iterator[list[Any]]:
    for c in changes:
        key = c.get("key") or ["", ""]
        base = [label(_KIND_LABELS, c.get("kind")), label(SITUATION_LABELS, c.get("situation")), c.get("label"),
                key[0], key[1], c.get("m5_id") or "", label(_OP_STATUS, c.get("status"))]
        details = [(ch["field"], ch["before"], ch["after"]) for ch in c.get("changes") or []]
        fields = "; ".join(f"{k}: {v}" for k, v in (c.get("fields") or {}).items() if v)
        if fields:  # a new user's fields in one row: a million creates stay a million rows
            details.append(("fält", "", fields))
        details += [("behörighetsgrupp", "", g) for g in c.get("add_groups") or []]
        details += [("behörighetsgrupp", g, "") for g in c.get("remove_groups") or []]
        if c.get("block_cards"):
            details.append(("kort spärrade", "", ", ".join(map(str, c["block_cards"]))))
        for card in c.get("unblock_cards") or []:
            details.append((f"kort {card}", "spärrat", "öppet"))
        if c.get("message"):
            details.append(("meddelande", "", c["message"]))
        details += [("anmärkning", "", n) for n in c.get("notes") or []]
        for f, b, a in details or [("", "", "")]:
            yield [*base, f, b, a]


def _write_xlsx(head: Mapping[str, Any], report: Mapping[str, Any], path: Path, lang: str) -> None:
    from openpyxl import Workbook

    del lang  # the workbook's sheet names and labels are Swedish (what sign-off uses)

    def label(table: Mapping[str, str], key: Any) -> Any:
        return table.get(str(key or ""), key)

    r = head
    wb = Workbook(write_only=True)
    summary = [
        ["Körning", r.get("run_id")], ["Start", r.get("started")], ["Slut", r.get("finished")],
        ["Tid (s)", round(float(r.get("duration_seconds") or 0), 2)],
        ["Status", label(_STATUS_LABELS, r.get("status"))],
        ["Provkörning", "ja" if r.get("dry_run") else "nej"],
        ["Skrivningar till M5", r.get("m5_writes", 0)],
        ["Manuella poster orörda", r.get("manual_left_alone", 0)],
        ["Stopporsak", r.get("stop_reason") or ""],
    ]
    summary += [["Varning", w] for w in r.get("warnings") or []]
    summary += [[f"Källa {k}", v] for k, v in (r.get("sources") or {}).items()]
    summary += [[label(SITUATION_LABELS, k), v] for k, v in sorted((r.get("counts") or {}).items())]
    _sheet(wb, "Sammanfattning", ["Uppgift", "Värde"], summary, [28, 80])
    _sheet(wb, "Ändringar", ["Åtgärd", "Situation", "Person", "Källa", "Käll-id", "M5-id", "Status", "Fält",
                             "Före", "Efter"], _change_rows(_changes(report), label),
           [14, 30, 30, 10, 14, 8, 12, 18, 30, 30])
    _sheet(wb, "Säkerhetsregler", ["Regel", "OK", "Värde", "Gräns", "Förklaring", "Överstyrd"],
           ([s.get("rule"), "ja" if s.get("ok") else "nej", s.get("value"), s.get("limit"), s.get("message"),
             "ja" if s.get("overridden") else "nej"] for s in r.get("safety") or []),
           [22, 6, 10, 10, 80, 10])
    _sheet(wb, "Fel", ["Person", "Åtgärd", "M5-id", "Fel"],
           ([e.get("label"), e.get("kind"), e.get("m5_id"), e.get("message")] for e in r.get("errors") or []),
           [30, 14, 8, 80])
    wb.save(path)
