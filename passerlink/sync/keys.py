"""Register ids that are personnummer never leave the register: a keyed hash stands in for them.

Swedish school systems often key pupils by personnummer. Used as it is, that id would be written
into M5's ownership marker (``passerlink:students:<personnummer>``), every report, log and
export. For such a source (``id_is_personnummer = true`` on it, or detected: nearly every id is a
valid personnummer) the sync replaces the id by ``pk-`` and the first 20 hex digits of an
HMAC-SHA256 of the normalised number, keyed with a site secret read from the environment
variable ``[sync] id_secret_env`` names. The same person always gets the same key at the same
site, so markers, links and reports stay stable from night to night, and nobody without the
secret can go back from the key to the number (not even by trying every birth date).

The link store keeps the keyed id too: it is all the sync needs to find the person again, since
it keys the register it reads the same way. A link file may name the person either way (the
keyed id from an export, or the personnummer typed by hand); ``Keyer.key`` accepts both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from passerlink.config import Config, secret_from_env
from passerlink.errors import ConfigError
from passerlink.features import normalize_personnummer
from passerlink.people import PeopleTable

__all__ = ["KEY_PREFIX", "Keyer", "is_keyed_id", "ids_look_like_personnummer", "personnummer_share", "keyer_for",
           "key_registers", "key_link_ids"]

KEY_PREFIX = "pk-"
#: Share of ids that must be valid personnummer for a source to count as keyed by them.
DETECT_SHARE = 0.9
#: From this share up (and below ``DETECT_SHARE``) a source must say what its ids are: a guess
#: either way could write personnummer into M5 or key a register that is not keyed by them.
AMBIGUOUS_SHARE = 0.2
_DETECT_SAMPLE = 2000


def is_keyed_id(source_id: str) -> bool:
    """Whether ``source_id`` is already a keyed hash (``pk-`` and 20 hex digits)."""
    s = str(source_id)
    return s.startswith(KEY_PREFIX) and len(s) == len(KEY_PREFIX) + 20 and all(
        c in "0123456789abcdef" for c in s[len(KEY_PREFIX):])


def personnummer_share(ids: Iterable[str]) -> float:
    """The share of the (first 2,000) non-empty ids that are valid personnummer (0 for none)."""
    seen = valid = 0
    for sid in ids:
        s = str(sid).strip()
        if not s:
            continue
        seen += 1
        valid += bool(normalize_personnummer(s))
        if seen >= _DETECT_SAMPLE:
            break
    return valid / seen if seen else 0.0


def ids_look_like_personnummer(ids: Iterable[str]) -> bool:
    """True when at least 90 % of the (first 2,000) non-empty ids are valid personnummer."""
    return personnummer_share(ids) >= DETECT_SHARE


@dataclass(frozen=True)
class Keyer:
    """Keys the ids of the sources in ``sources`` with the site secret; other ids pass through."""

    sources: frozenset[str]
    secret: bytes = b""

    def key(self, source: str, source_id: str) -> str:
        """The id the sync uses for ``source_id`` of ``source`` (a keyed hash for a keyed source)."""
        sid = str(source_id).strip()
        if source not in self.sources or not sid or is_keyed_id(sid):
            return sid
        canonical = normalize_personnummer(sid) or sid
        digest = hmac.new(self.secret, f"{source}\x1f{canonical}".encode(), hashlib.sha256).hexdigest()
        return KEY_PREFIX + digest[:20]

    def sync_key(self, source: str, source_id: str) -> tuple[str, str]:
        """``(source, key(source, source_id))``: the person as the sync knows them."""
        return source, self.key(source, source_id)


def _flagged(config: Config) -> dict[str, bool | None]:
    return {s.name: getattr(s, "id_is_personnummer", None) for s in config.sources}


def keyer_for(config: Config, tables: Mapping[str, PeopleTable]) -> Keyer:
    """The keyer of a site: the sources flagged ``id_is_personnummer`` or detected as such.

    A keyed source without the secret in the environment is a ``ConfigError`` (exit 2): the
    number itself is never used in its place.
    """
    keyed: set[str] = set()
    for name, flag in _flagged(config).items():
        if flag is True:
            keyed.add(name)
        elif flag is None and name in tables:
            ids = tables[name].people.get("source_id", [])
            share = personnummer_share(i for i in ids if not is_keyed_id(str(i)))
            if share >= DETECT_SHARE:
                keyed.add(name)
            elif share >= AMBIGUOUS_SHARE:
                raise ConfigError(
                    f"{config.config_path}: source {name!r}: {share:.0%} of its ids are personnummer; say whether "
                    "the id column holds personnummer with id_is_personnummer = true (or false) on the source")
    if not keyed:
        return Keyer(frozenset())
    env = config.sync.id_secret_env
    what = f"the secret that keys the personnummer ids of {', '.join(sorted(keyed))}"
    secret = secret_from_env(env, what, config.config_path if isinstance(config.config_path, Path) else None)
    return Keyer(frozenset(keyed), secret.encode())


def key_registers(tables: Mapping[str, PeopleTable], keyer: Keyer) -> dict[str, PeopleTable]:
    """The tables with the ids of keyed sources replaced by their keyed hash."""
    out: dict[str, PeopleTable] = {}
    for name, table in tables.items():
        if name not in keyer.sources:
            out[name] = table
            continue
        people = table.people.copy()
        people["source_id"] = [keyer.key(name, str(s)) for s in people["source_id"]]
        out[name] = replace(table, people=people)
    return out


def key_link_ids(links: pd.DataFrame, keyer: Keyer) -> pd.DataFrame:
    """A link table (``source, source_id, ...``) with ids of keyed sources keyed."""
    if not keyer.sources or links.empty:
        return links
    out = links.copy()
    out["source_id"] = [keyer.key(str(s), str(i)) for s, i in zip(out["source"], out["source_id"], strict=True)]
    return out
