"""The sync state database: runs, journal, gone since, deleted, review queue."""

from __future__ import annotations

from passerlink.sync import SyncState


def test_runs_and_previous_stats(tmp_path):
    with SyncState(tmp_path / "s.sqlite") as s:
        assert s.previous_run_stats() is None
        s.start_run("r1", dry_run=False)
        s.finish_run("r1", "done", source_counts={"hr": 10})
        s.start_run("r2", dry_run=True)
        s.finish_run("r2", "dry_run", source_counts={"hr": 1})
        s.start_run("r3", dry_run=False)
        s.finish_run("r3", "stopped", source_counts={"hr": 2})
        assert s.previous_run_stats()["source_counts"] == {"hr": 10}
        assert list(s.runs()["status"]) == ["done", "dry_run", "stopped"]


def test_unfinished_creates_survive_a_reopen(tmp_path):
    path = tmp_path / "s.sqlite"
    with SyncState(path) as s:
        s.journal("r1", "create|hr:1|", "create", "start", marker="passerlink:hr:1")
        s.journal("r1", "create|hr:2|", "create", "start", marker="passerlink:hr:2")
        s.journal("r1", "create|hr:2|", "create", "done", marker="passerlink:hr:2", m5_id="9")
        s.journal("r1", "create|hr:3|", "create", "start", marker="passerlink:hr:3")
        s.journal("r1", "create|hr:3|", "create", "created", marker="passerlink:hr:3", m5_id="10")
    with SyncState(path) as s:
        assert s.unfinished_markers() == {"passerlink:hr:1", "passerlink:hr:3"}
        s.journal("r2", "create|hr:1|", "create", "failed", marker="passerlink:hr:1")
        assert s.unfinished_markers() == {"passerlink:hr:3"}
        assert s.prune_journal("2000-01-01") == 0 and len(s.journal_rows()) == 6
        assert s.prune_journal("9999-01-01") == 6 and s.unfinished_markers() == set()


def test_gone_deleted_and_queue(tmp_path):
    with SyncState(tmp_path / "s.sqlite") as s:
        s.mark_gone({"5": "A", "6": "B"}, "2026-10-01")
        s.mark_gone({"5": "A"}, "2026-11-01")  # the first date is kept
        assert s.gone_since() == {"5": "2026-10-01", "6": "2026-10-01"}
        s.clear_gone(["6"])
        s.mark_deleted("5", "hr", "1")
        assert s.gone_since() == {} and s.deleted_ids() == {"5"}
        s.queue([("hr", "1", "9", 0.9, "Anna Berg (hr:1)"), ("hr", "2", "8", 0.8, "Bo Ek (hr:2)")])
        s.queue([("hr", "1", "9", 0.95, "Anna Berg (hr:1)")])
        q = s.review_queue()
        assert list(q["source_id"]) == ["1"] and q["probability"].iloc[0] == 0.95
        assert len(s.review_queue(pending_only=False)) == 2


def test_blocked_cards_are_remembered_per_user_and_forgotten(tmp_path):
    with SyncState(tmp_path / "s.sqlite") as s:
        s.record_blocked("5", {"70": "/a", "71": "/b"}, "run1")
        s.record_blocked("6", {"80": "/c"}, "run1")
        s.record_blocked("5", {"70": "/a2"}, "run2")  # blocked again later: the newer stamp counts
        assert s.blocked_by_sync() == {"5": {"70": "/a2", "71": "/b"}, "6": {"80": "/c"}}
        s.forget_blocked("5", ["71"])
        assert s.blocked_by_sync() == {"5": {"70": "/a2"}, "6": {"80": "/c"}}
        s.forget_blocked("5")
        assert s.blocked_by_sync() == {"6": {"80": "/c"}}
    with SyncState(tmp_path / "s.sqlite") as s:  # survives a reopen
        assert s.blocked_by_sync() == {"6": {"80": "/c"}}


def test_a_block_is_written_ahead_and_confirmed_after(tmp_path):
    with SyncState(tmp_path / "s.sqlite") as s:
        s.intend_block("5", ["70", "71"], "run1")  # before the call: no rastamp yet
    with SyncState(tmp_path / "s.sqlite") as s:  # a kill right after the block: the intent survives
        assert s.blocked_by_sync() == {"5": {"70": "", "71": ""}}
        s.record_blocked("5", {"70": "/a"}, "run2")  # M5 confirmed one card
        s.forget_blocked("5", ["71"])  # the other was not blocked after all
        assert s.blocked_by_sync() == {"5": {"70": "/a"}}
