"""TLS: the client verifies M5's certificate by default; a CA file makes a private CA trusted."""

from __future__ import annotations

import time

import pytest

from passerlink.config import M5Config
from passerlink.errors import M5UnavailableError
from passerlink.m5 import M5Client


@pytest.fixture
def tls_sim(m5sim_tls):
    return m5sim_tls


def test_unknown_certificate_is_refused_at_once(tls_sim):
    assert tls_sim.url.startswith("https://")
    c = M5Client(tls_sim.url, user="demo", password="demo", apikey="demo", retries=4, backoff_base=1.0)
    started = time.monotonic()
    with pytest.raises(M5UnavailableError, match="certificate could not be verified") as exc:
        c.list_users()
    assert tls_sim.url in str(exc.value)
    assert time.monotonic() - started < 1.0  # not retried: a bad certificate does not get better
    assert tls_sim.calls() == []  # nothing reached the API
    c.close()


def test_ca_file_makes_the_certificate_trusted(tls_sim, tls_cert):
    with tls_sim.client(verify=tls_cert[0]) as c:
        assert c.create_user({"firstname": "A", "lastname": "B"})["createdby"] == "demo"


def test_ca_file_from_config(tls_sim, tls_cert, m5_env):
    m5 = M5Config(url=tls_sim.url, ca_file=tls_cert[0])
    with M5Client.from_config(m5) as c:
        assert c.list_users() == []
    insecure = M5Config(url=tls_sim.url, verify_tls=False)  # an operator's explicit choice
    with M5Client.from_config(insecure) as c:
        assert c.list_users() == []
