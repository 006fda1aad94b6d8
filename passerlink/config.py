"""The one TOML configuration file: sources, the M5 connection, the link store, the sync policy.

Validated with pydantic so that every problem is reported in one pass, quoting the bad value.
Relative paths are resolved against the config file's folder, so a copied folder of config and
data works anywhere. Secrets are never in the file: it names the environment variables to read.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from passerlink.errors import ConfigError
from passerlink.people import PERSON_FIELDS
from passerlink.policy import DateColumns, SyncPolicy

__all__ = [
    "DEFAULT_M5_COLUMNS",
    "SourceConfig",
    "CsvSourceConfig",
    "XlsxSourceConfig",
    "SqlSourceConfig",
    "Ss12000SourceConfig",
    "SOURCE_KINDS",
    "parse_source",
    "M5Config",
    "LinkStoreConfig",
    "Config",
    "load_config",
    "secret_from_env",
]

#: Relations of an M5 user that the listing can embed (``include=``).
M5Relation = Literal["cards", "accessgroups", "department", "usergroup"]
M5_RELATIONS: tuple[M5Relation, ...] = ("cards", "accessgroups", "department", "usergroup")

SourceKind = Literal["csv", "xlsx", "sql", "ss12000"]
#: The source kinds, in the order messages list them.
SOURCE_KINDS: tuple[str, ...] = ("csv", "xlsx", "sql", "ss12000")

#: How M5 users are read as people unless ``[m5.columns]`` says otherwise.
DEFAULT_M5_COLUMNS: dict[str, str] = {
    "firstname": "given_names",
    "lastname": "family_name",
    "email": "email",
    "employmentnumber": "employee_number",
    "department": "org_unit",
    "customfield1": "personnummer",
    "customfield2": "birth_date",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceBase(_Strict):
    """What every register has: a name, how its columns map, its people's M5 user group."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="short name, e.g. 'hr'")
    id_column: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)  # source column -> canonical field
    user_group: str | None = None  # M5 user group for this source's people (sync)
    #: the id column holds personnummer: the sync keys them (``[sync] id_secret_env``); None = detect
    id_is_personnummer: bool | None = None

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {c: f for c, f in v.items() if f not in PERSON_FIELDS}
        if bad:
            col, fld = next(iter(bad.items()))
            raise ValueError(
                f"column {col!r} is mapped to {fld!r}, which is not one of {', '.join(PERSON_FIELDS)}"
            )
        return v


class CsvSourceConfig(_SourceBase):
    """A CSV export; encoding and separator are sniffed unless forced."""

    kind: Literal["csv"]
    path: Path
    encoding: str | None = None
    separator: str | None = None


class XlsxSourceConfig(_SourceBase):
    """An Excel workbook; the first sheet unless ``sheet`` names another."""

    kind: Literal["xlsx"]
    path: Path
    sheet: str | None = None


class SqlSourceConfig(_SourceBase):
    """A SELECT (or table/view name) over a SQLAlchemy URL, given or read from ``url_env``."""

    kind: Literal["sql"]
    query: str = Field(min_length=1)
    url: str | None = None
    url_env: str | None = None  # the URL with its password stays out of the file

    @model_validator(mode="after")
    def _has_url(self) -> SqlSourceConfig:
        if not (self.url or self.url_env):
            raise ValueError("a sql source needs 'url' or 'url_env'")
        return self


class Ss12000SourceConfig(_SourceBase):
    """An SS 12000 (v2) API: the pupils (or the staff) of a school organisation.

    Authentication is either OAuth2 client credentials (``token_url`` with the client id and
    secret read from the environment variables named here) or a fixed bearer token from
    ``token_env``; TLS is verified (``ca_file`` for a site CA), with a client certificate if the
    server asks for one.
    """

    kind: Literal["ss12000"]
    url: str = Field(min_length=1, description="API base URL incl. its version, e.g. .../v2")
    #: "pupil": persons with a current enrolment; "staff": persons with a current duty.
    role: Literal["pupil", "staff"] = "pupil"
    #: Only these school units (organisation ids); empty = every unit the server shows.
    school_units: list[str] = Field(default_factory=list)
    token_url: str | None = None  # OAuth2 client-credentials token endpoint
    client_id_env: str | None = None
    client_secret_env: str | None = None
    scope: str | None = None
    #: How the client id and secret reach the token endpoint: HTTP Basic, or in the form body.
    client_auth: Literal["basic", "body"] = "basic"
    token_env: str | None = None  # a fixed bearer token instead of OAuth2
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    #: Use a "Privat" e-mail when a person has no other (never by default: it is not the school's).
    private_email: bool = False
    #: "Sekretessmarkering": "protected" (default, like Skyddad folkbokföring) or "ordinary".
    sekretessmarkering: Literal["protected", "ordinary"] = "protected"
    page_size: int = Field(default=500, ge=1, le=10000)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("url", "token_url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @model_validator(mode="after")
    def _auth(self) -> Ss12000SourceConfig:
        if self.token_url and self.token_env:
            raise ValueError("an ss12000 source takes 'token_url' (OAuth2) or 'token_env', not both")
        if self.token_url and not (self.client_id_env and self.client_secret_env):
            raise ValueError("an ss12000 source with 'token_url' needs 'client_id_env' and 'client_secret_env'")
        if not self.token_url and (self.client_id_env or self.client_secret_env or self.scope):
            raise ValueError("'client_id_env', 'client_secret_env' and 'scope' need 'token_url'")
        if self.client_key and not self.client_cert:
            raise ValueError("'client_key' needs 'client_cert'")
        return self


#: One register's settings; ``kind`` chooses the model, and each kind takes only its own settings.
SourceConfig = Annotated[
    CsvSourceConfig | XlsxSourceConfig | SqlSourceConfig | Ss12000SourceConfig,
    Field(discriminator="kind"),
]

_SOURCE_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
_SOURCE_SETTINGS = frozenset(
    f
    for model in (CsvSourceConfig, XlsxSourceConfig, SqlSourceConfig, Ss12000SourceConfig)
    for f in model.model_fields
)
_SOURCE_PATHS = ("path", "ca_file", "client_cert", "client_key")


def parse_source(data: Mapping[str, Any]) -> SourceConfig:
    """One source's settings as the model of its ``kind`` (pydantic's ValidationError if wrong)."""
    return _SOURCE_ADAPTER.validate_python(dict(data))


class M5Config(_Strict):
    """How to reach the RCard M5 Admin API."""

    url: str = Field(description="base URL ending in /m5adminapi/api")
    user_env: str = "PASSERLINK_M5_USER"
    password_env: str = "PASSERLINK_M5_PASSWORD"
    apikey_env: str = "PASSERLINK_M5_APIKEY"
    verify_tls: bool = True
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    page_size: int = Field(default=500, ge=1, le=10000)
    #: How this site's Admin API pages, filters and embeds (``passerlink m5 check`` says what to set):
    #: "offset" sends ``offset_param``/``limit_param``; "none" asks for the whole list in one request.
    paging: Literal["offset", "none"] = "offset"
    offset_param: str = Field(default="offset", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    limit_param: str = Field(default="limit", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: ask ``count=true`` and page until that count; without a count the listing is read twice.
    ask_count: bool = True
    #: one user's cards: "filter" sends ``filter=fkusernumber:'N'`` (the real client's form),
    #: "param" sends ``fkusernumber=N``.
    card_filter: Literal["filter", "param"] = "filter"
    #: relations asked with ``include=`` on the user listing (empty: none asked, M5 must embed them).
    include: list[M5Relation] = Field(default_factory=lambda: list(M5_RELATIONS))
    #: largest clock difference to M5 the sync accepts (dates of leavers are written in M5's days).
    max_clock_skew_seconds: float = Field(default=300.0, gt=0)
    marker_field: str = "apireference"
    #: M5 user field -> canonical field, for reading M5 users as people ("department" is the
    #: expanded department name). Where a site keeps personnummer or birth date is site-specific.
    columns: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_M5_COLUMNS))

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.rstrip("/")


class LinkStoreConfig(_Strict):
    path: Path = Path("passerlink-links.sqlite")


class Config(_Strict):
    sources: list[SourceConfig] = Field(min_length=1)
    m5: M5Config | None = None
    link_store: LinkStoreConfig = LinkStoreConfig()
    sync: SyncPolicy = Field(default_factory=SyncPolicy)
    config_path: Path | None = None

    @field_validator("sources")
    @classmethod
    def _unique(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"source name {dup[0]!r} is used more than once")
        return v

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(
            f"{self.config_path}: no source named {name!r} (known: {', '.join(s.name for s in self.sources)})"
        )


def _resolve(base: Path, p: Path | None) -> Path | None:
    if p is None:
        return None
    p = Path(os.path.expandvars(str(p))).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ``ConfigError`` naming the file and every problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{path}: config file is not UTF-8 (byte 0x{data[exc.start]:02X} on line {line})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        problems = [p for err in exc.errors() for p in _problems(raw, err)]
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
    base = path.resolve().parent
    sources = [
        s.model_copy(
            update={f: _resolve(base, getattr(s, f)) for f in _SOURCE_PATHS if f in type(s).model_fields}
        )
        for s in cfg.sources
    ]
    m5 = cfg.m5
    if m5 is not None:
        m5 = m5.model_copy(
            update={
                "ca_file": _resolve(base, m5.ca_file),
                "client_cert": _resolve(base, m5.client_cert),
                "client_key": _resolve(base, m5.client_key),
            }
        )
    return cfg.model_copy(
        update={
            "sources": sources,
            "m5": m5,
            "link_store": LinkStoreConfig(path=_resolve(base, cfg.link_store.path)),
            "sync": _with_ss12000_dates(cfg.sync, cfg.sources),
            "config_path": path.resolve(),
        }
    )


#: The SS 12000 reader's date columns (the chosen enrolment's or duty's; a leaver's end).
SS12000_DATES = DateColumns(start="startDate", end="endDate")


def _with_ss12000_dates(sync: SyncPolicy, sources: list[SourceConfig]) -> SyncPolicy:
    """An SS 12000 source's dates go to M5 unless ``[sync.dates.<name>]`` says otherwise: a pupil
    who starts next term is a future start, one who died or emigrated ends on the day read."""
    missing = {s.name: SS12000_DATES for s in sources if s.kind == "ss12000" and s.name not in sync.dates}
    return sync.model_copy(update={"dates": {**sync.dates, **missing}}) if missing else sync


def _problems(raw: dict[str, Any], err: Any) -> list[str]:
    """One validation error as the sentences a person reads: where, what, and the bad value."""
    where: tuple[Any, ...] = tuple(err["loc"])
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    in_source = len(where) >= 2 and where[0] == "sources" and isinstance(where[1], int)
    if in_source and len(where) >= 3 and where[2] in SOURCE_KINDS:
        where = where[:2] + where[3:]  # the discriminated union's tag is not a setting
    if in_source and kind == "union_tag_not_found":
        return [f"{_loc(raw, where + ('kind',))}: Field required"]
    if in_source and kind == "union_tag_invalid":
        kinds = [repr(k) for k in SOURCE_KINDS]
        expected = f"Input should be {', '.join(kinds[:-1])} or {kinds[-1]}"
        node = raw["sources"][where[1]]
        unknown = [k for k in node if k not in _SOURCE_SETTINGS and k != "kind"]
        return [f"{_loc(raw, where + ('kind',))}: {expected} (got {node.get('kind')!r})"] + [
            f"{_loc(raw, where + (k,))}: unknown setting" for k in unknown
        ]
    if in_source and kind == "missing" and len(where) == 3 and where[2] != "name":
        source_kind = raw["sources"][where[1]].get("kind")
        return [f"{_loc(raw, where[:2])}: a {source_kind} source needs {where[2]!r}"]
    if kind == "extra_forbidden":
        msg = "unknown setting"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "should be a TOML table"
    elif kind == "path_type":
        msg = "should be a path (text)"
    # quote the bad value, unless our own validator's message already does
    if kind not in ("missing", "extra_forbidden", "value_error") and isinstance(
        err.get("input"), str | int | float | bool
    ):
        msg = f"{msg} (got {err['input']!r})"
    return [f"{_loc(raw, where)}: {msg}"]


def _loc(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """'sources[hr].kind' rather than 'sources.0.kind'."""
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            name = node[item].get("name") if item < len(node) and isinstance(node[item], dict) else None
            parts[-1] = f"{parts[-1]}[{name or item}]" if parts else f"[{item}]"
            node = node[item] if item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def secret_from_env(var: str, what: str, config_path: Path | None = None) -> str:
    """The value of a secret's environment variable, or a ConfigError saying which one is unset."""
    value = os.environ.get(var)
    if value is None or value == "":
        where = f"{config_path}: " if config_path else ""
        raise ConfigError(f"{where}environment variable {var} ({what}) is not set")
    return value
