"""The ``[sync]`` table of the configuration: every reaction of the nightly sync is a setting here.

The defaults are the safe choice for a municipality on its first night: deactivate at once but
delete only after 30 days, report (do not recreate) a linked user someone deleted by hand, send
likely matches to the operator instead of creating duplicates, and stop before writing when a
plan is larger than a normal night's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passerlink.people import PERSON_FIELDS

__all__ = [
    "SyncPolicy",
    "Threshold",
    "Thresholds",
    "Situations",
    "DateColumns",
    "AccessRule",
    "FIELD_EXPRESSIONS",
]

#: What an M5 field may be filled from (``[sync.fields]``): a canonical column, or one of these.
#: ``first_name`` is the call name, else the first given name; ``employee_digits`` is the
#: employee number with everything but digits removed (M5 wants an unsigned integer);
#: ``extra:COLUMN`` is a column of the register beyond the canonical ones. ``created`` (a
#: record's creation day, M5's own stamp) is nothing a register person hands on.
FIELD_EXPRESSIONS = ("first_name", "employee_digits", *(f for f in PERSON_FIELDS[1:] if f != "created"),
                     "source_id")

#: M5 fields the engine fills itself; they cannot be mapped in ``[sync.fields]``.
_RESERVED = {"department", "usergroup", "fkdepartment", "fkusergroup", "startdate", "enddate", "status",
             "id", "rastamp", "createdby", "changedby", "createddate", "changeddate", "refguid"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    """A plan with more than ``max_count`` such changes, or more than ``max_share`` of the base, stops."""

    max_count: int | None = Field(default=None, ge=0)
    max_share: float | None = Field(default=None, ge=0, le=1)


class Thresholds(_Strict):
    """Safety rules checked before the first write (``--allow-mass-changes`` overrides them)."""

    creates: Threshold = Threshold(max_count=500, max_share=0.25)
    updates: Threshold = Threshold(max_count=1000, max_share=0.30)
    deactivations: Threshold = Threshold(max_count=50, max_share=0.05)
    deletes: Threshold = Threshold(max_count=50, max_share=0.05)
    #: Emptying a name (``firstname``, ``lastname``) that has a value in M5: any one stops.
    blank_names: Threshold = Threshold(max_count=0)
    #: Emptying any other field that has a value in M5 (e-mail, department, dates, ...).
    blank_fields: Threshold = Threshold(max_count=5)
    #: First-night guard: while the link store is empty, or the engine owns fewer M5 users than
    #: this (links or markers; at most half the register rows on a small site), and M5 holds
    #: manual users, a plan that creates users stops: go-live (matching, ``links import``) is not
    #: finished, and every create could be a duplicate of a person already in M5.
    first_night_min_owned: int = Field(default=20, ge=0)
    #: Share rules are only checked when the base (owned users) is at least this large: on a
    #: tiny installation one change is already 10 %.
    min_base_for_share: int = Field(default=20, ge=0)
    #: A source with fewer rows than this share of its size in the last completed run stops.
    source_min_share_of_last: float = Field(default=0.8, ge=0, le=1)
    #: A source with no rows at all stops.
    stop_on_empty_source: bool = True


class Situations(_Strict):
    """The reaction to each synchronisation situation (midPoint's word for it)."""

    #: linked user whose fields differ from the register
    changed: Literal["update", "report"] = "update"
    #: person in a register without a link: look for an unlinked M5 user first, then create
    new: Literal["match_then_create", "create", "report"] = "match_then_create"
    #: linked user whose person left every register
    gone: Literal["deactivate", "report"] = "deactivate"
    #: person back in a register whose M5 user we deactivated
    rehire: Literal["reactivate", "report"] = "reactivate"
    #: on rehire, unblock the cards the engine itself blocked when the person left (never a card
    #: blocked by hand, nor one changed in M5 since the engine blocked it)
    rehire_unblock_cards: bool = True
    #: linked M5 user that someone deleted in M5
    deleted_in_m5: Literal["recreate", "report"] = "report"
    #: person in a register whose M5 user someone deactivated by hand (not the engine)
    inactive_in_m5: Literal["leave", "activate"] = "leave"


class DateColumns(_Strict):
    """Register columns (beyond the canonical ones) that hold start and end dates."""

    start: str | None = None
    end: str | None = None


class AccessRule(_Strict):
    """Give ``accessgroup`` to everyone matching all given conditions (regular expressions,
    case-insensitive, matched against the whole value)."""

    accessgroup: str = Field(min_length=1)
    source: str | None = None
    role: str | None = None
    org_unit: str | None = None

    @field_validator("role", "org_unit")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        import re

        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"{v!r} is not a regular expression ({exc})") from None
        return v


def _default_fields() -> dict[str, str]:
    return {
        "firstname": "first_name",
        "lastname": "family_name",
        "email": "email",
        "employmentnumber": "employee_digits",
    }


class SyncPolicy(_Strict):
    """Everything the sync engine decides by configuration; see docs in the README."""

    # --- files ------------------------------------------------------------------------------
    report_dir: Path = Path("reports")
    report_keep_days: int = Field(default=90, ge=1)
    state_db: Path = Path("passerlink-sync.sqlite")

    # --- ownership ----------------------------------------------------------------------------
    #: The marker is ``<marker_prefix>:<source>:<source_id>`` in ``[m5].marker_field``.
    marker_prefix: str = Field(default="passerlink", pattern=r"^[A-Za-z0-9_.-]+$")
    #: Environment variable with the site secret that keys the ids of a register keyed by
    #: personnummer (``id_is_personnummer`` on a source, or detected): markers, links and
    #: reports carry ``pk-<HMAC>`` instead of the number.
    id_secret_env: str = Field(default="PASSERLINK_ID_SECRET", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    # --- desired state ------------------------------------------------------------------------
    #: Which register wins for a person found in several (first wins); default: the order of
    #: ``[[sources]]`` in the file.
    winner: list[str] = Field(default_factory=list)
    #: M5 user field -> what fills it (see ``FIELD_EXPRESSIONS``, or ``extra:COLUMN``).
    fields: dict[str, str] = Field(default_factory=_default_fields)
    #: Org unit (as in the register) -> M5 department name. Units not listed keep their own name.
    departments: dict[str, str] = Field(default_factory=dict)
    on_unknown_department: Literal["create", "report"] = "create"
    #: Source name -> M5 user group (``[[sources]].user_group`` takes precedence).
    user_groups: dict[str, str] = Field(default_factory=lambda: {"hr": "Personal", "students": "Elev"})
    on_unknown_user_group: Literal["create", "report"] = "create"
    #: Source name -> the register columns with start and end dates.
    dates: dict[str, DateColumns] = Field(
        default_factory=lambda: {"hr": DateColumns(start="Anställningsdatum", end="Slutdatum")}
    )
    #: Source name -> the register column with the person's role (for access rules).
    role_columns: dict[str, str] = Field(default_factory=lambda: {"hr": "Befattning"})
    #: Access-group rules; only the groups named here are ever added or removed.
    access_rules: list[AccessRule] = Field(default_factory=list)

    # --- protected identity -------------------------------------------------------------------
    #: Register columns that carry a protection marking (students' ``Skyddad``, SS 12000
    #: ``securityMarking``, the SS 12000 reader's ``protected``). Any value other than the ones in ``unprotected_values`` protects.
    protected_columns: list[str] = Field(default_factory=lambda: ["Skyddad", "securityMarking", "Sekretess", "protected"])
    unprotected_values: list[str] = Field(default_factory=lambda: ["", "ingen", "nej", "no", "false", "0", "n"])
    #: The only mapped M5 fields written for a person with protected identity (besides marker,
    #: user group, dates and access groups, which the access system needs); the other mapped
    #: fields are emptied.
    protected_fields: list[str] = Field(default_factory=lambda: ["firstname", "lastname", "employmentnumber"])
    #: Department for protected people: "" leaves it empty (the unit would tell where they are).
    protected_department: str = ""

    # --- situations -----------------------------------------------------------------------------
    situations: Situations = Situations()
    #: Days between deactivation and deletion of a user gone from every register, or "never".
    grace_days: int | Literal["never"] = 30
    #: Who looks for a new person among the unlinked M5 users: the trained matcher ("model") or
    #: only the strict rule (same valid personnummer, or same birth date and names) ("rule").
    new_person_matcher: Literal["model", "rule"] = "model"
    #: Bands of the strict rule (``new_person_matcher = "rule"``) that send a person to the queue.
    queue_bands: list[str] = Field(default_factory=lambda: ["auto", "ask", "likely"])
    #: Lowest model probability at which an unlinked M5 user "may be" a new person: the person
    #: goes to the operator's queue instead of being created (a duplicate is a second card holder).
    queue_min_probability: float = Field(default=0.0001, ge=0, le=1)
    #: M5 ``status`` values (unsigned integers) for active and deactivated users.
    active_status: int = Field(default=1, ge=0)
    inactive_status: int = Field(default=0, ge=0)

    # --- safety and apply -----------------------------------------------------------------------
    thresholds: Thresholds = Thresholds()
    concurrency: int = Field(default=4, ge=1, le=32)
    #: Stop applying after this many failed operations in a row.
    circuit_breaker: int = Field(default=5, ge=1)
    #: Re-plans of one user after ``rastamp`` conflicts before giving up on it.
    max_conflict_replans: int = Field(default=3, ge=1)

    @field_validator("grace_days")
    @classmethod
    def _grace(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v < 0:
            raise ValueError("grace_days must be 0 or more, or \"never\"")
        return v

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        for m5_field, expr in v.items():
            if m5_field in _RESERVED:
                raise ValueError(f"M5 field {m5_field!r} is filled by the engine and cannot be mapped")
            if not (expr in FIELD_EXPRESSIONS or (expr.startswith("extra:") and len(expr) > 6)):
                raise ValueError(
                    f"{m5_field} = {expr!r}: not one of {', '.join(FIELD_EXPRESSIONS)} or extra:COLUMN"
                )
        return v

    # --- helpers --------------------------------------------------------------------------------
    def marker(self, source: str, source_id: str) -> str:
        """The ownership marker written into M5 for this register person."""
        return f"{self.marker_prefix}:{source}:{source_id}"

    def parse_marker(self, value: str | None) -> tuple[str, str] | None:
        """``(source, source_id)`` of one of our markers, else None (a manual record)."""
        if not value:
            return None
        prefix, sep, rest = str(value).partition(":")
        if prefix != self.marker_prefix or not sep:
            return None
        source, sep, sid = rest.partition(":")
        if not sep or not source or not sid:
            return None
        return source, sid

    def grace(self) -> int | None:
        """Grace period in days, None for never."""
        return None if self.grace_days == "never" else int(self.grace_days)
