"""Every simulator fault mode ends in a correct M5 state, or in a clean stop with a report after
which a clean rerun converges – never in duplicates or half-written users."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from _syncworld import assert_m5_is_desired, assert_no_duplicates, make_site, with_registers


@pytest.fixture
def site(tmp_path, m5sim, m5_env):
    """After go-live (links imported, first sync), with a night's worth of register changes."""
    s = make_site(tmp_path, m5sim, staff=30, pupils=40,
                  sync_toml="[sync.thresholds]\nsource_min_share_of_last = 0.5\n"
                            "[sync.thresholds.deactivations]\nmax_share = 1.0\n"
                            "[sync.thresholds.updates]\nmax_share = 1.0\n")
    assert s.import_truth() == 0
    assert s.sync(allow_mass_changes=True).exit_code == 0
    hr = s.world.hr.copy()
    hr = hr.iloc[3:].assign(Efternamn=lambda d: d["Efternamn"] + "-B")
    new = [{c: "" for c in hr.columns} | {"Anställningsnummer": str(98000 + i), "Förnamn": f"Nyanställd{i}",
                                          "Efternamn": "Fel", "Enhet": "Ny enhet"} for i in range(8)]
    s.write_registers(with_registers(s.world, hr=pd.concat([hr, pd.DataFrame(new)], ignore_index=True)))
    m5sim.clear_calls()
    return s


def _converged(site, m5sim) -> None:
    users = site.users()
    assert_no_duplicates(users)
    assert_m5_is_desired(site, inactive_by_hand=site.inactive_by_hand())
    m5sim.clear_calls()
    again = site.sync()
    assert again.exit_code == 0 and m5sim.writes() == [], again.report.get("stop_reason")


FAULTS = {
    "error500": ({"error500": 0.3, "seed": 1}, {}),
    "timeout": ({"timeout": 0.15, "timeout_sleep": 0.6, "seed": 2}, {"timeout": 0.3}),
    "429": ({"429": 0.3, "retry_after": 0.05, "seed": 3}, {}),
    "token_expiry": ({"token_ttl": 0.15, "latency": 0.02, "seed": 4}, {}),
    "lost_reply": ({"lost_reply": 0.25, "timeout_sleep": 0.6, "seed": 5}, {"timeout": 0.3}),
}


@pytest.mark.parametrize("mode", list(FAULTS))
def test_fault_mode_ends_in_the_desired_state(site, m5sim, mode):
    faults, client_kw = FAULTS[mode]
    m5sim.set_faults(faults)
    client = m5sim.client(backoff_base=0.01, backoff_max=0.05, retries=6, **client_kw)
    try:
        result = site.sync(client=client)
    finally:
        client.close()
    m5sim.set_faults({})
    time.sleep(faults.get("timeout_sleep", 0) + 0.1)  # held answers of abandoned requests land in the call log
    assert result.exit_code in (0, 1), result.report.get("stop_reason")
    assert result.paths["json"].exists()
    if result.exit_code == 1:  # a clean stop: the report says what failed; the next night finishes
        assert result.report["errors"]
        assert site.sync().exit_code == 0
    else:
        assert result.report["counts"]["gone"] == 3
    if mode == "token_expiry":
        assert client.stats["relogins"] >= 1
    if mode == "lost_reply":
        assert client.stats["retries"] >= 1
    _converged(site, m5sim)


def test_a_failing_m5_trips_the_circuit_breaker_and_the_next_run_converges(site, m5sim):
    client = m5sim.client(backoff_base=0.0, backoff_max=0.0, retries=1)
    client.login()  # M5 accepts logins and reads, and refuses every write
    m5sim.set_faults({"error500": 1.0, "methods": ["POST", "PATCH", "PUT", "DELETE"]})
    try:
        result = site.sync(client=client)
    finally:
        client.close()
    m5sim.set_faults({})
    assert result.exit_code == 1 and result.status == "failed"
    assert "circuit breaker" in result.report["stop_reason"]
    assert result.report["ops_by_status"].get("skipped", 0) > 0
    statuses = {c["status"] for c in result.report["changes"]}
    assert "skipped" in statuses and "failed" in statuses
    html = result.paths["html"].read_text(encoding="utf-8")
    assert "Misslyckades" in html
    rerun = site.sync()
    assert rerun.exit_code == 0, rerun.report.get("stop_reason")
    _converged(site, m5sim)
