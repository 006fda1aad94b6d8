"""The go-live banner over ``sync.golive``'s state: the steps marked, what is left, the next step
and its page; the review engine's estimate stands in for the store's open questions until the
first sign-off and whenever questions are open; the store's withdrawal notes worded for the operator."""

from __future__ import annotations

from passerlink.sync.golive import GoLiveFacts
from passerlink.workbench.flow import banner_of, reason_of
from passerlink.workbench.i18n import TEXTS

SOURCES = ("hr", "students")


def marks(banner) -> dict[str, str]:
    return dict(banner.steps)


def test_before_anything_the_next_step_is_to_propose_on_the_matching_page():
    b = banner_of(GoLiveFacts(sources=SOURCES))
    assert marks(b)["step_sources_read"] == "done" and marks(b)["step_proposals"] == "current"
    assert (b.next.key, b.next.page) == ("next_propose", "matching")


def test_questions_left_are_the_engines_estimate_until_the_first_sign_off():
    facts = GoLiveFacts(sources=SOURCES, proposed=2900, questions=640, ever_proposed=3540)
    b = banner_of(facts, questions_left=212)
    assert (b.next.key, b.next.values["n"], b.next.page) == ("next_answer_questions", 212, "review")
    assert [(line.key, line.values["n"]) for line in b.left][:1] == [("left_open_questions", 212)]
    done = banner_of(facts, questions_left=0)  # the model says asking no longer pays off
    assert (done.next.key, done.next.page) == ("next_sign_off", "links")
    signed = banner_of(GoLiveFacts(sources=SOURCES, ever_proposed=3540, links=3050, signoffs=1), questions_left=150)
    assert marks(signed)["step_signed_off"] == "done"
    assert signed.next.key == "next_dry_run" and signed.next.page == "sync"


def test_questions_stored_after_a_sign_off_are_counted_as_the_review_page_counts_them():
    # signed off on the command line with questions unanswered, then the workbench's matching
    # stored new ones: the banner says the Review page's estimate, not the store's raw count
    facts = GoLiveFacts(sources=SOURCES, ever_proposed=3540, links=2985, signoffs=1, proposed=20, questions=205)
    b = banner_of(facts, questions_left=142)
    assert (b.next.key, b.next.values["n"]) == ("next_answer_questions", 142)
    assert [(line.key, line.values["n"]) for line in b.left][:1] == [("left_open_questions", 142)]


def test_after_a_dry_run_the_next_step_names_the_plan_and_after_two_runs_nothing_is_left():
    facts = GoLiveFacts(sources=SOURCES, ever_proposed=10, links=9, signoffs=1, dry_runs=1, last_plan_id="66df8aa8b1a3")
    b = banner_of(facts)
    assert (b.next.key, b.next.values) == ("next_approve_plan", {"plan": "66df8aa8b1a3"})
    stopped = banner_of(GoLiveFacts(**{**facts.__dict__, "last_run_status": "stopped"}))
    assert stopped.next.key == "next_approve_stopped"
    nightly = banner_of(GoLiveFacts(**{**facts.__dict__, "done_runs": 2}))
    assert nightly.next.key == "next_done" and set(marks(nightly).values()) == {"done"}


def test_every_banner_key_is_in_the_catalogue():
    for facts in (GoLiveFacts(), GoLiveFacts(sources=SOURCES, missing_sources=("hr",)),
                  GoLiveFacts(sources=SOURCES, proposed=5, questions=3, ever_proposed=8, queued=2)):
        b = banner_of(facts)
        for key in [k for k, _ in b.steps] + [line.key for line in b.left] + [b.next.key]:
            assert key in TEXTS["sv"] and key in TEXTS["en"]


def test_withdrawal_notes_are_worded_by_key():
    assert reason_of("hr:12 was linked to M5 user 7 instead (confirmed by anna)").key == "why_conflict_other_m5"
    assert reason_of("M5 user 7 is already linked to students:s1").values == {"m5_id": "7", "person": "students s1"}
    assert reason_of("no longer proposed by model seed0-r3").values == {"model": "seed0-r3"}
    assert reason_of("not answered at sign-off #2: no link; ...").key == "why_unanswered"
    assert reason_of("something new").key == "why_other"
