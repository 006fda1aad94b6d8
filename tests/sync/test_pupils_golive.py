"""Go-live on a pupil-realistic world, over HTTP: a graduate's M5 user is never proposed for a pupil
it is older than.

The simulator is seeded with ``generate_pupil_world`` (siblings in one school, graduates still in
M5, some under a current pupil's given name at that pupil's school; every M5 user carries M5's
own ``createddate``). ``passerlink links propose`` reads M5 over HTTP and stores its auto-links:
none may pair a pupil with an M5 user created before the pupil was old enough for school. The
control is the same world with every ``createddate`` set to one recent day (an M5 whose users
all look new): there the same command does propose such pairs, so the test can tell whether the
stamp travels from M5's answer through the reader into the model.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from passerlink.cli import main
from passerlink.matching import LinkStore
from passerlink.sampleworld import generate_pupil_world, site_config
from passerlink.sources import canonicalize

PUPILS = 2000
SEED = 0


@pytest.fixture(scope="module")
def world():
    return generate_pupil_world(seed=SEED, pupils=PUPILS)


def _site(folder: Path, world, url: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "students.csv").write_bytes(world.files()["students.csv"])
    config = folder / "site.toml"
    config.write_text(site_config(url, registers=("students",)), encoding="utf-8")
    return config


def _school_start(world) -> dict[str, str]:
    """Per pupil id: the first day an M5 user could have been made for the pupil (1 January of
    the year the pupil turned six), from the register's own birth dates and personnummer."""
    people = canonicalize(world.students, source="students", id_column="Elev-ID").people
    return {sid: f"{int(born[:4]) + 6}-01-01" for sid, born in zip(people["source_id"], people["birth_date"], strict=True)
            if born}


def _too_old_proposals(config: Path, sim, start: dict[str, str]) -> list[tuple[str, str, str]]:
    """Proposed auto-links whose M5 user (as the simulator answers over HTTP) was created before
    its pupil's school start: (pupil, M5 user, createddate)."""
    assert main(["links", "propose", "--config", str(config)]) == 0
    with sim.client() as client:
        created = {str(u["id"]): str(u["createddate"])[:10] for u in client.list_users()}
    proposals = LinkStore(config.parent / "links.sqlite").proposals()
    auto = proposals[proposals["kind"] == "proposed"]
    assert len(auto) > 1000, "the world's pupils should mostly be proposed"
    return [(p, m, created[m]) for p, m in zip(auto["source_id"], auto["m5_id"], strict=True)
            if created[m] < start[p]]


def test_a_graduates_record_older_than_the_pupil_is_never_proposed(tmp_path, world, m5sim_factory, m5_env, capsys):
    start = _school_start(world)
    sim = m5sim_factory(seed=world.m5_seed)
    assert _too_old_proposals(_site(tmp_path / "site", world, sim.url), sim, start) == []

    # the graduates that carry a current pupil's given name at that pupil's school, with the
    # pupil's own M5 user beside them: the pupil's own user is the one proposed
    truth = dict(zip(world.truth["source_id"].astype(str), world.truth["m5_id"].astype(str), strict=True))
    div = world.divergences
    namesakes = [(r.other.partition(":")[2], str(r.m5_id)) for r in div[div["kind"] == "graduate_sibling_name"].itertuples()]
    namesakes = [(p, g) for p, g in namesakes if p in truth]
    proposals = LinkStore(tmp_path / "site" / "links.sqlite").proposals()
    proposed = set(zip(proposals.loc[proposals["kind"] == "proposed", "source_id"],
                       proposals.loc[proposals["kind"] == "proposed", "m5_id"], strict=True))
    assert namesakes, "the world holds no graduate under a pupil's name"
    assert not {(p, g) for p, g in namesakes} & proposed
    assert sum((p, truth[p]) in proposed for p, _ in namesakes) >= len(namesakes) // 2

    # control: the same M5 with every user created on one recent day, judged by names and school
    # alone: graduates are proposed for pupils they are older than
    young = copy.deepcopy(world.m5_seed)
    for user in young["users"]:
        user["createddate"] = "2026-10-01T08:00:00"
    control = m5sim_factory(seed=young)
    config = _site(tmp_path / "control", world, control.url)
    assert main(["links", "propose", "--config", str(config)]) == 0
    stamped = {str(u["id"]): u["createddate"][:10] for u in world.m5_seed["users"]}
    proposals = LinkStore(config.parent / "links.sqlite").proposals()
    auto = proposals[proposals["kind"] == "proposed"]
    wrong = [(p, m) for p, m in zip(auto["source_id"], auto["m5_id"], strict=True) if stamped[m] < start[p]]
    assert wrong, "without the creation stamp no graduate was proposed: the test would prove nothing"
