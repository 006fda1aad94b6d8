"""Run reports: JSON for machines, HTML (Swedish) for people, XLSX for sign-off – from one dict.

Every run writes all three, dry or not, stopped or not. Personal data is handled as such:
personnummer-like values are masked, the values of people with protected identity are never
shown, and every XLSX text cell that a spreadsheet could read as a formula is neutralised.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from passerlink.errors import InputError
from passerlink.features import mask_personnummer

__all__ = [
    "SITUATION_LABELS",
    "mask_value",
    "safe_cell",
    "write_reports",
    "prune_reports",
    "list_reports",
    "last_report",
    "load_report",
    "summary_text",
]

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NAME = re.compile(r"^sync-(\d{8}-\d{6})(\d{3})?-[0-9a-f]+\.json$")


def mask_value(value: Any) -> Any:
    """A personnummer-looking text masked; anything else as it is."""
    if isinstance(value, str) and _PNR.match(value.strip()):
        return mask_personnummer(value)
    return value


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _sanitize_change(ch: Mapping[str, Any], protected: bool) -> dict[str, Any]:
    if protected:
        return {"field": ch["field"], "before": "***" if ch.get("before") else "",
                "after": "***" if ch.get("after") else ""}
    return {"field": ch["field"], "before": mask_value(ch.get("before", "")), "after": mask_value(ch.get("after", ""))}


def sanitize(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report with personal data masked (applied before anything is written)."""
    out = dict(report)
    changes = []
    for c in report.get("changes", []):
        c = dict(c)
        prot = bool(c.get("protected"))
        c["changes"] = [_sanitize_change(ch, prot) for ch in c.get("changes", [])]
        if c.get("fields"):
            c["fields"] = {k: ("***" if prot and v else mask_value(v)) for k, v in c["fields"].items()}
        changes.append(c)
    out["changes"] = changes
    out["errors"] = [{k: mask_value(v) for k, v in e.items()} for e in report.get("errors", [])]
    return out


def _stamp(report: Mapping[str, Any]) -> str:
    """Local start time to the millisecond: report names sort in the order the runs started."""
    started = _dt.datetime.fromisoformat(str(report["started"])).astimezone()
    return started.strftime("%Y%m%d-%H%M%S") + f"{started.microsecond // 1000:03d}"


def write_reports(report: Mapping[str, Any], report_dir: str | Path) -> dict[str, Path]:
    """Write ``sync-<time>-<run>.{json,html,xlsx}``; returns the paths by format."""
    folder = Path(report_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the report folder ({exc.strerror})") from None
    data = sanitize(report)
    base = folder / f"sync-{_stamp(data)}-{str(data['run_id'])[:8]}"
    paths = {"json": base.with_suffix(".json"), "html": base.with_suffix(".html"), "xlsx": base.with_suffix(".xlsx")}
    data["files"] = {k: str(v) for k, v in paths.items()}
    paths["html"].write_text(render_html(data), encoding="utf-8")
    _write_xlsx(data, paths["xlsx"])
    tmp = paths["json"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(paths["json"])  # the JSON last: it is what "report --last" looks for
    return paths


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


# ---- text summary ---------------------------------------------------------------------------------
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
    for r in report.get("safety") or []:
        if not r.get("ok"):
            state = "overridden" if r.get("overridden") else "STOPPED"
            lines.append(f"safety rule {r['rule']}: {r['message']} [{state}]")
    if report.get("stop_reason"):
        lines.append(str(report["stop_reason"]))
    for e in (report.get("errors") or [])[:10]:
        lines.append(f"error: {e.get('label', '')} {e.get('message', '')}".strip())
    if len(report.get("errors") or []) > 10:
        lines.append(f"... and {len(report['errors']) - 10} more errors")
    files = report.get("files") or {}
    if files:
        lines.append("report: " + str(files.get("html", "")))
    return "\n".join(lines)


# ---- HTML -----------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f2f2f2}.stop{color:#a00;font-weight:bold}.ok{color:#070}
.small{color:#666;font-size:.9em}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def render_html(r: Mapping[str, Any]) -> str:
    status = str(r.get("status", ""))
    rows = []
    add = rows.append
    add("<!doctype html><html lang='sv'><head><meta charset='utf-8'>")
    add(f"<title>Synkrapport {_e(r.get('started'))}</title><style>{_CSS}</style></head><body>")
    add(f"<h1>Synkronisering register → RCard M5</h1><p>Körning <code>{_e(r.get('run_id'))}</code>, "
        f"start {_e(r.get('started'))}, tid {float(r.get('duration_seconds', 0)):.1f} s.</p>")
    cls = "ok" if status in ("done", "dry_run") else "stop"
    add(f"<p class='{cls}'>Status: {_e(_STATUS_LABELS.get(status, status))}</p>")
    if r.get("stop_reason"):
        add(f"<p class='stop'>{_e(r['stop_reason'])}</p>")
    if r.get("dry_run"):
        add("<p>Provkörning: planen visas nedan, ingenting har skrivits till M5.</p>")
    add("<h2>Källor</h2><table><tr><th>Källa</th><th>Antal personer</th></tr>")
    for k, v in (r.get("sources") or {}).items():
        add(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>")
    add("</table><h2>Situationer</h2><table><tr><th>Situation</th><th>Antal</th></tr>")
    for k, v in sorted((r.get("counts") or {}).items()):
        add(f"<tr><td>{_e(SITUATION_LABELS.get(k, k))}</td><td>{_e(v)}</td></tr>")
    add(f"</table><p>Skrivningar till M5: {_e(r.get('m5_writes', 0))}.</p>")
    add("<h2>Säkerhetsregler</h2><table><tr><th>Regel</th><th>Resultat</th><th>Värde</th><th>Gräns</th>"
        "<th>Förklaring</th></tr>")
    for s in r.get("safety") or []:
        res = "OK" if s.get("ok") else ("Överstyrd" if s.get("overridden") else "STOPP")
        add(f"<tr><td>{_e(s.get('rule'))}</td><td class='{'ok' if s.get('ok') else 'stop'}'>{res}</td>"
            f"<td>{_e(s.get('value'))}</td><td>{_e(s.get('limit'))}</td><td>{_e(s.get('message'))}</td></tr>")
    add("</table>")
    if any(not s.get("ok") and not s.get("overridden") for s in r.get("safety") or []):
        add("<p>Granska provkörningen och kör sedan om med <code>--allow-mass-changes</code> om ändringarna "
            "är avsiktliga. En källa som inte kan läsas måste rättas först.</p>")
    errors = r.get("errors") or []
    if errors:
        add("<h2>Fel</h2><table><tr><th>Person</th><th>Åtgärd</th><th>Fel</th></tr>")
        for e in errors:
            add(f"<tr><td>{_e(e.get('label'))}</td><td>{_e(_KIND_LABELS.get(e.get('kind', ''), e.get('kind')))}"
                f"</td><td>{_e(e.get('message'))}</td></tr>")
        add("</table>")
    add("<h2>Ändringar</h2><table><tr><th>Åtgärd</th><th>Situation</th><th>Person</th><th>M5-id</th>"
        "<th>Fält: före → efter</th><th>Status</th></tr>")
    for c in r.get("changes") or []:
        parts = [f"{_e(ch['field'])}: {_e(ch['before']) or '–'} → {_e(ch['after']) or '–'}"
                 for ch in c.get("changes") or []]
        if c.get("fields"):
            parts += [f"{_e(k)}: {_e(v)}" for k, v in c["fields"].items() if v]
        for g in c.get("add_groups") or []:
            parts.append(f"+ behörighetsgrupp {_e(g)}")
        for g in c.get("remove_groups") or []:
            parts.append(f"− behörighetsgrupp {_e(g)}")
        if c.get("block_cards"):
            parts.append(f"spärra kort {_e(', '.join(c['block_cards']))}")
        if c.get("unblock_cards"):
            parts.append(f"kort {_e(', '.join(c['unblock_cards']))}: spärrat → öppet")
        if c.get("message"):
            parts.append(_e(c["message"]))
        parts += [f"anm.: {_e(n)}" for n in c.get("notes") or []]
        add(f"<tr><td>{_e(_KIND_LABELS.get(c.get('kind', ''), c.get('kind')))}</td>"
            f"<td>{_e(SITUATION_LABELS.get(c.get('situation', ''), c.get('situation')))}</td>"
            f"<td>{_e(c.get('label'))}</td><td>{_e(c.get('m5_id') or '')}</td><td>{'<br>'.join(parts)}</td>"
            f"<td>{_e(_OP_STATUS.get(c.get('status', ''), c.get('status')))}</td></tr>")
    add("</table>")
    add(f"<p class='small'>Manuella poster i M5 (ej länkade, utan markör) har lämnats orörda: "
        f"{_e(r.get('manual_left_alone', 0))}. Personnummer visas maskerade; för personer med skyddad identitet "
        f"visas inga uppgifter.</p></body></html>")
    return "\n".join(rows)


# ---- XLSX -----------------------------------------------------------------------------------------
def _sheet(wb: Any, title: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append([safe_cell(h) for h in header])
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    for col in ws.columns:
        width = max((len(str(c.value or "")) for c in col), default=8)
        ws.column_dimensions[col[0].column_letter].width = min(60, max(10, width + 2))


def _write_xlsx(r: Mapping[str, Any], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    summary = [
        ["Körning", r.get("run_id")], ["Start", r.get("started")], ["Slut", r.get("finished")],
        ["Tid (s)", round(float(r.get("duration_seconds", 0)), 2)],
        ["Status", _STATUS_LABELS.get(str(r.get("status")), r.get("status"))],
        ["Provkörning", "ja" if r.get("dry_run") else "nej"],
        ["Skrivningar till M5", r.get("m5_writes", 0)],
        ["Manuella poster orörda", r.get("manual_left_alone", 0)],
        ["Stopporsak", r.get("stop_reason") or ""],
    ]
    summary += [[f"Källa {k}", v] for k, v in (r.get("sources") or {}).items()]
    summary += [[SITUATION_LABELS.get(k, k), v] for k, v in sorted((r.get("counts") or {}).items())]
    _sheet(wb, "Sammanfattning", ["Uppgift", "Värde"], summary)
    change_rows = []
    for c in r.get("changes") or []:
        key = c.get("key") or ["", ""]
        base = [_KIND_LABELS.get(c.get("kind", ""), c.get("kind")),
                SITUATION_LABELS.get(c.get("situation", ""), c.get("situation")), c.get("label"),
                key[0], key[1], c.get("m5_id") or "", _OP_STATUS.get(c.get("status", ""), c.get("status"))]
        details = [(ch["field"], ch["before"], ch["after"]) for ch in c.get("changes") or []]
        details += [(k, "", v) for k, v in (c.get("fields") or {}).items() if v]
        details += [("behörighetsgrupp", "", g) for g in c.get("add_groups") or []]
        details += [("behörighetsgrupp", g, "") for g in c.get("remove_groups") or []]
        if c.get("block_cards"):
            details.append(("kort spärrade", "", ", ".join(c["block_cards"])))
        for card in c.get("unblock_cards") or []:
            details.append((f"kort {card}", "spärrat", "öppet"))
        if c.get("message"):
            details.append(("meddelande", "", c["message"]))
        details += [("anmärkning", "", n) for n in c.get("notes") or []]
        for f, b, a in details or [("", "", "")]:
            change_rows.append([*base, f, b, a])
    _sheet(wb, "Ändringar", ["Åtgärd", "Situation", "Person", "Källa", "Käll-id", "M5-id", "Status", "Fält",
                             "Före", "Efter"], change_rows)
    _sheet(wb, "Säkerhetsregler", ["Regel", "OK", "Värde", "Gräns", "Förklaring", "Överstyrd"],
           [[s.get("rule"), "ja" if s.get("ok") else "nej", s.get("value"), s.get("limit"), s.get("message"),
             "ja" if s.get("overridden") else "nej"] for s in r.get("safety") or []])
    _sheet(wb, "Fel", ["Person", "Åtgärd", "M5-id", "Fel"],
           [[e.get("label"), e.get("kind"), e.get("m5_id"), e.get("message")] for e in r.get("errors") or []])
    wb.save(path)
