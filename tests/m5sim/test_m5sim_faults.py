"""Fault settings: parsing, validation and the draws."""

from __future__ import annotations

from collections import Counter

import pytest

from passerlink.m5sim import FaultPlan, faults_from_mapping, parse_faults


def test_parse_the_command_line_spec():
    f = parse_faults("latency=0.05,error500=0.1,timeout=0.05,429=0.05,retry_after=1,token_ttl=5,seed=7")
    assert (f.latency, f.error500, f.timeout, f.rate429, f.retry_after, f.token_ttl, f.seed) == (
        0.05, 0.1, 0.05, 0.05, 1.0, 5.0, 7)
    assert parse_faults("").error500 == 0
    assert parse_faults("methods=post|patch,queue=error500|ok").methods == ["POST", "PATCH"]


@pytest.mark.parametrize(
    ("spec", "word"),
    [("error500=2", "error500"), ("bogus=1", "unknown fault setting"), ("latency", "name=value"),
     ("error500=0.6,timeout=0.6", "more than 1"), ("queue=boom", "boom"), ("latency=soon", "latency")],
)
def test_bad_specs_say_what_is_wrong(spec, word):
    with pytest.raises(ValueError, match=word):
        parse_faults(spec)


def test_draws_follow_the_shares_and_the_seed():
    plan = FaultPlan(faults_from_mapping({"error500": 0.2, "429": 0.1, "lost_reply": 0.1, "seed": 3}))
    first = [plan.draw("GET") for _ in range(2000)]
    counts = Counter(first)
    assert 300 < counts["error500"] < 500 and 120 < counts["429"] < 280 and 120 < counts["lost_reply"] < 280
    assert counts["timeout"] == 0
    plan.set(faults_from_mapping({"error500": 0.2, "429": 0.1, "lost_reply": 0.1, "seed": 3}))
    assert [plan.draw("GET") for _ in range(2000)] == first


def test_queue_comes_first_and_methods_filter():
    plan = FaultPlan(faults_from_mapping({"queue": ["error500", "ok", "timeout"], "methods": ["POST"]}))
    assert plan.draw("GET") is None  # not a POST: neither queue nor shares apply
    assert [plan.draw("POST") for _ in range(4)] == ["error500", None, "timeout", None]
    assert plan.public()["queue"] == []
