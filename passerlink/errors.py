"""One exception tree for everything passerlink raises on purpose.

The CLI and the workbench turn any ``PasserlinkError`` into one sentence for the operator (never
a traceback); the ``exit_code`` attribute says which exit code the CLI uses.

    PasserlinkError                     exit 1 unless a subclass says otherwise
    ├── InputError                      exit 2: a file, a row, a column or an argument is wrong
    │   ├── ConfigError                 the TOML configuration is invalid or names a missing env var
    │   └── SourceError                 a register file / database / SS 12000 API cannot be read
    ├── M5Error                         anything that went wrong talking to the M5 Admin API
    │   ├── M5UnavailableError          exit 2: unreachable, TLS failure or timeouts after all retries
    │   ├── M5ProtocolError             an answer that is not what the API promises (garbage)
    │   └── M5ApiError                  a proper M5 error body (errorcode, friendlymessage)
    │       ├── M5AuthError             login refused (401/403 after re-login)
    │       ├── M5NotFoundError         404
    │       └── M5ConflictError         stale ``rastamp`` (409)
    ├── SafetyStop                      exit 3: a sync safety rule stopped the run before writing
    └── LockedError                     another run holds the run lock

Third-party exceptions are converted at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "PasserlinkError",
    "InputError",
    "ConfigError",
    "SourceError",
    "M5Error",
    "M5UnavailableError",
    "M5ProtocolError",
    "M5ApiError",
    "M5AuthError",
    "M5NotFoundError",
    "M5ConflictError",
    "SafetyStop",
    "LockedError",
]


class PasserlinkError(Exception):
    """Root of every error passerlink raises on purpose; its message is one sentence."""

    exit_code = 1


class InputError(PasserlinkError):
    """Something the user gave us is wrong: the message names the file, row or column."""

    exit_code = 2


class ConfigError(InputError):
    """The configuration file is invalid."""


class SourceError(InputError):
    """A register source cannot be read."""


class M5Error(PasserlinkError):
    """Talking to the RCard M5 Admin API failed."""


class M5UnavailableError(M5Error):
    """M5 could not be reached (connection, TLS, timeouts) even after retries.

    Exit 2, as the README's table says: an M5 that cannot be reached is a setting to check (the
    URL, the network, the certificate), not a run that failed halfway."""

    exit_code = 2


class M5ProtocolError(M5Error):
    """M5 answered something that is not what its API promises."""


class M5ApiError(M5Error):
    """M5 answered with its error body."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        errorcode: int | None = None,
        friendlymessage: str = "",
        developermessage: str = "",
        endpoint: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errorcode = errorcode
        self.friendlymessage = friendlymessage
        self.developermessage = developermessage
        self.endpoint = endpoint


class M5AuthError(M5ApiError):
    """M5 refused our credentials."""


class M5NotFoundError(M5ApiError):
    """The M5 object does not exist (any more)."""


class M5ConflictError(M5ApiError):
    """The ``rastamp`` we sent is stale: someone changed the user since we read it."""


class SafetyStop(PasserlinkError):
    """A sync safety rule stopped the run before its first write."""

    exit_code = 3


class LockedError(PasserlinkError):
    """Another passerlink run holds the run lock."""
