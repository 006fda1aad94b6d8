"""A register reached as a database view or query, through SQLAlchemy.

The URL comes from the config's ``url`` or, because it usually carries a password, from the
environment variable named by ``url_env``. Encryption is the driver's business and is set in
the URL's query string, for example::

    postgresql+psycopg://hr_reader@hr-db.kommun.se/personec?sslmode=verify-full&sslrootcert=/etc/passerlink/ca.pem
    mssql+pyodbc://hr_reader@heroma-db/heroma?driver=ODBC+Driver+18+for+SQL+Server&Encrypt=yes&TrustServerCertificate=no

(``verify-full`` / ``TrustServerCertificate=no`` check the server's certificate and name; do not
weaken them in production). ``query`` is either a SELECT (or WITH ...) statement or the name of
a table or view (``schema.view`` allowed), which is quoted as an identifier, never pasted into
SQL. Every value is turned into text as a person would have typed it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from passerlink.config import SqlSourceConfig, secret_from_env
from passerlink.errors import SourceError
from passerlink.people import PeopleTable
from passerlink.sources._canonical import canonicalize
from passerlink.sources._text import cell_text, refuse_unsafe_text

__all__ = ["read_sql"]

_STATEMENT = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def read_sql(spec: SqlSourceConfig, *, config_path: Path | None = None) -> PeopleTable:
    """Run the source's query (or read its table/view) and canonicalise the result."""
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc

    raw_url = spec.url or secret_from_env(
        spec.url_env or "", f"database URL of source {spec.name!r}", config_path
    )
    try:
        url = sa.engine.make_url(raw_url)
    except sa_exc.ArgumentError:
        raise SourceError(f"source {spec.name!r}: the database URL is not a SQLAlchemy URL") from None
    shown_url = url.render_as_string(hide_password=True)
    query = (spec.query or "").strip()
    stmt: sa.Executable
    if _STATEMENT.match(query):
        stmt = sa.text(query)
        what = "query"
    elif _NAME.match(query):
        schema, _, name = query.rpartition(".")
        stmt = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
        what = f"table {query!r}"
    else:
        raise SourceError(
            f"source {spec.name!r}: query {query[:60]!r} is neither a SELECT nor a table/view name"
        )
    try:
        engine = sa.create_engine(url)
    except sa_exc.NoSuchModuleError:
        raise SourceError(
            f"source {spec.name!r}: no database driver for {url.drivername!r} is installed"
        ) from None
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise SourceError(f"source {spec.name!r}: cannot use {shown_url} ({exc})") from None
    try:
        with engine.connect() as conn:
            result = conn.execute(stmt)
            columns = [str(c) for c in list(result.keys())]
            data = [[cell_text(v) for v in row] for row in result]
    except sa_exc.DBAPIError as exc:
        raise SourceError(
            f"source {spec.name!r}: {what} on {shown_url} failed ({_first_line(exc)})"
        ) from None
    except sa_exc.SQLAlchemyError as exc:
        raise SourceError(
            f"source {spec.name!r}: {what} on {shown_url} failed ({_first_line(exc)})"
        ) from None
    finally:
        engine.dispose()
    origin = f"{shown_url} ({what})"
    if not data:
        raise SourceError(f"{origin} returned no rows")
    refuse_unsafe_text(columns, [[r[j] for r in data] for j in range(len(columns))],
                       range(1, len(data) + 1), origin)
    frame = pd.DataFrame(data, columns=columns, dtype=object)
    table = canonicalize(
        frame,
        source=spec.name,
        id_column=spec.id_column,
        mapping=spec.columns,
        origin=origin,
        row_numbers=range(1, len(frame) + 1),
        no_rows_message=f"{origin} returned only empty rows",
    )
    table.people.attrs["read_as"] = "database rows numbered from 1"
    return table
