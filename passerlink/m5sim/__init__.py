"""A stand-in RCard M5 Admin API: a real HTTP server on loopback with its own SQLite store.

The sync engine cannot tell it from the real thing except by its address; tests switch its
faults (latency, 500s, timeouts, 429s, lost replies, token expiry) at run time, and a profile
makes it play one plausible variant of the real API (page caps, ignored parameters, ...).
"""

from passerlink.m5sim.app import API_VERSION, BASE_PATH, Simulator, create_app
from passerlink.m5sim.faults import (
    FAULT_KINDS,
    FaultPlan,
    Faults,
    faults_from_mapping,
    parse_faults,
)
from passerlink.m5sim.profiles import PROFILES, Profile, profile_named
from passerlink.m5sim.store import (
    CARD_WRITABLE,
    USER_READONLY,
    USER_WRITABLE,
    SimError,
    Store,
    parse_filter,
)

__all__ = [
    "API_VERSION",
    "BASE_PATH",
    "CARD_WRITABLE",
    "FAULT_KINDS",
    "FaultPlan",
    "PROFILES",
    "Profile",
    "profile_named",
    "Faults",
    "SimError",
    "Simulator",
    "Store",
    "USER_READONLY",
    "USER_WRITABLE",
    "create_app",
    "faults_from_mapping",
    "parse_faults",
    "parse_filter",
]
