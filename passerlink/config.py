"""The one TOML configuration file: sources, the M5 connection, the link store, the sync policy.

Validated with pydantic so that every problem is reported in one pass, quoting the bad value.
Relative paths are resolved against the config file's folder, so a copied folder of config and
data works anywhere. Secrets are never in the file: it names the environment variables to read.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from passerlink.errors import ConfigError
from passerlink.people import PERSON_FIELDS
from passerlink.policy import SyncPolicy

__all__ = [
    "DEFAULT_M5_COLUMNS",
    "SourceConfig",
    "M5Config",
    "LinkStoreConfig",
    "Config",
    "load_config",
    "secret_from_env",
]

SourceKind = Literal["csv", "xlsx", "sql", "ss12000"]

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


class SourceConfig(_Strict):
    """One register: where it is, how to read it, which column means what."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="short name, e.g. 'hr'")
    kind: SourceKind
    path: Path | None = None  # csv / xlsx
    sheet: str | None = None  # xlsx
    encoding: str | None = None  # csv: forced encoding (else sniffed)
    separator: str | None = None  # csv: forced separator (else sniffed)
    url: str | None = None  # sql (SQLAlchemy URL) or ss12000 base URL
    url_env: str | None = None  # sql: read the URL (with its password) from this env var
    query: str | None = None  # sql: a SELECT or a table/view name
    token_env: str | None = None  # ss12000: bearer token env var
    ca_file: Path | None = None  # ss12000: CA bundle
    id_column: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)  # source column -> canonical field
    user_group: str | None = None  # M5 user group for this source's people (sync)

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

    @model_validator(mode="after")
    def _kind_needs(self) -> SourceConfig:
        need = {"csv": ("path",), "xlsx": ("path",), "sql": ("query",), "ss12000": ("url",)}
        for f in need[self.kind]:
            if getattr(self, f) in (None, ""):
                raise ValueError(f"a {self.kind} source needs '{f}'")
        if self.kind == "sql" and not (self.url or self.url_env):
            raise ValueError("a sql source needs 'url' or 'url_env'")
        return self


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
        problems = []
        for err in exc.errors():
            loc = _loc(raw, err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            kind = err["type"]
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
            problems.append(f"{loc}: {msg}")
        raise ConfigError(f"{path}: " + "; ".join(problems)) from None
    base = path.resolve().parent
    sources = [
        s.model_copy(
            update={"path": _resolve(base, s.path), "ca_file": _resolve(base, s.ca_file)}
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
            "config_path": path.resolve(),
        }
    )


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
