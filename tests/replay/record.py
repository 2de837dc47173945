"""Record the workflow histories that tests/replay/test_replay.py replays on every CI run.

    .venv/bin/python -m tests.replay.record              # record the scenarios not yet recorded
    .venv/bin/python -m tests.replay.record SLUG ...     # only these (new) scenarios
    .venv/bin/python -m tests.replay.record --overwrite SLUG   # replace them (see README: rarely)

Each scenario is an existing test; it runs under pytest with tests/replay/recording.py loaded,
which saves the history of every workflow the test started. Existing histories are kept:
they are the record of how workflows ran in production-like conditions, and replaying them
against new code is what catches a non-deterministic change.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.replay.recording import DIR_ENV, INDEX, SCENARIOS_ENV

HISTORIES = Path(__file__).parent / "histories"

# slug -> (test node id, the workflow types worth keeping from it)
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "day-on-time": (
        "tests/workflows/test_learning_day.py::test_on_time_day_holds_prompts_records_and_shares_in_a_thread",
        ["LearningDayWorkflow", "ChannelPosterWorkflow"],
    ),
    "day-no-plan": (
        "tests/workflows/test_learning_day.py::test_no_plan_is_reminded_then_flagged_once",
        ["LearningDayWorkflow"],
    ),
    "day-holiday": (
        "tests/workflows/test_learning_day.py::test_company_holiday_is_skipped_with_its_reason_and_no_hold",
        ["LearningDayWorkflow"],
    ),
    "day-out-of-office": (
        "tests/workflows/test_learning_day.py::test_out_of_office_on_the_calendar_skips_the_day",
        ["LearningDayWorkflow"],
    ),
    "day-skipped-mid-day": (
        "tests/workflows/test_learning_day.py::test_skipping_mid_day_removes_the_hold_and_is_not_a_miss",
        ["LearningDayWorkflow"],
    ),
    "day-plan-edited": (
        "tests/workflows/test_learning_day.py::test_a_plan_can_be_edited_after_it_was_submitted",
        ["LearningDayWorkflow", "ChannelPosterWorkflow"],
    ),
    "day-partial-absence": (
        "tests/workflows/test_check_in_rules.py::test_a_partial_absence_holds_the_day_and_excuses_only_the_check_in_it_covers",
        ["LearningDayWorkflow"],
    ),
    "day-prompted-by-email": (
        "tests/faults/test_side_roads.py::test_a_person_slack_cannot_reach_is_prompted_by_email_and_checks_in_on_the_web",
        ["LearningDayWorkflow"],
    ),
    "day-channel-missing": (
        "tests/faults/test_side_roads.py::test_a_missing_channel_does_not_end_the_days_and_the_summary_is_posted_alone",
        ["LearningDayWorkflow", "ChannelPosterWorkflow"],
    ),
    "day-flags-told-at-day-end": (
        "tests/enforcement/test_day_end_flags.py::test_two_missed_check_ins_of_one_day_reach_the_manager_in_one_email",
        ["LearningDayWorkflow"],
    ),
    "day-used-for-work": (
        "tests/enforcement/test_day_end_flags.py::test_a_day_used_for_work_is_flagged_at_its_end_with_its_evidence",
        ["LearningDayWorkflow"],
    ),
    "day-calendar-unread": (
        "tests/enforcement/test_day_end_flags.py::test_a_calendar_unreadable_at_the_days_end_is_a_problem_and_the_day_completes",
        ["LearningDayWorkflow"],
    ),
    "day-skipped-after-a-miss": (
        "tests/enforcement/test_day_end_flags.py::test_a_day_skipped_after_a_missed_plan_still_tells_of_the_miss_once",
        ["LearningDayWorkflow"],
    ),
    "kickoff": (
        "tests/workflows/test_kickoff.py::test_kickoff_starts_each_active_persons_next_learning_day_once",
        ["WeeklyKickoffWorkflow"],
    ),
    "claim-one-level": (
        "tests/reimbursement/test_claim_workflow.py::test_a_one_level_claim_is_approved_by_the_manager_and_the_claimant_hears_each_step",
        ["ReimbursementWorkflow"],
    ),
    "claim-two-level": (
        "tests/reimbursement/test_claim_workflow.py::test_a_large_claim_needs_the_manager_then_the_managers_manager",
        ["ReimbursementWorkflow"],
    ),
    "claim-expired": (
        "tests/reimbursement/test_claim_workflow.py::test_an_unanswered_claim_is_reminded_then_escalated_then_expires_without_failing",
        ["ReimbursementWorkflow"],
    ),
    "claim-raced": (
        "tests/reimbursement/test_approval_race.py::test_twenty_concurrent_clicks_with_both_answers_leave_one_truth_everywhere",
        ["ReimbursementWorkflow"],
    ),
    "weekly-audit": (
        "tests/enforcement/test_weekly_audit.py::test_the_audit_flags_work_and_spillover_and_sends_each_email_once",
        ["WeeklyAuditWorkflow"],
    ),
    "weekly-audit-bad-address": (
        "tests/faults/test_side_roads.py::test_one_bad_address_does_not_stop_the_weekly_audit_before_the_digests",
        ["WeeklyAuditWorkflow"],
    ),
    # The channel sequencer posting in turns (patch "channel-turns"): a burst with Slack down
    # mid-turn, and a channel that does not exist.
    "channel-in-turns": (
        "tests/integrations/test_channel_turns.py::test_slack_down_mid_burst_ends_the_turn_and_the_rest_follows_in_order",
        ["ChannelPosterWorkflow"],
    ),
    "channel-missing-in-turns": (
        "tests/faults/test_side_roads.py::test_a_missing_channel_does_not_end_the_days_and_the_summary_is_posted_alone",
        ["ChannelPosterWorkflow"],
    ),
}


def recorded(slug: str) -> bool:
    return any(HISTORIES.glob(f"{slug}--*.json"))


def main(argv: list[str]) -> int:
    overwrite = "--overwrite" in argv
    wanted = [a for a in argv if not a.startswith("--")] or list(SCENARIOS)
    unknown = [s for s in wanted if s not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    todo = [s for s in wanted if overwrite or not recorded(s)]
    if not todo:
        print("every scenario is recorded already (use --overwrite SLUG to replace one)")
        return 0
    HISTORIES.mkdir(exist_ok=True)
    index_file = HISTORIES / INDEX
    index: dict[str, str] = json.loads(index_file.read_text()) if index_file.exists() else {}
    for slug in todo:
        for old in HISTORIES.glob(f"{slug}--*.json"):
            old.unlink()
            index.pop(old.name, None)
    index_file.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")
    os.environ[DIR_ENV] = str(HISTORIES)
    os.environ[SCENARIOS_ENV] = json.dumps({SCENARIOS[s][0]: [s, SCENARIOS[s][1]] for s in todo})
    code = pytest.main(
        [SCENARIOS[s][0] for s in todo] + ["-q", "-p", "no:cacheprovider", "-p", "tests.replay.recording"]
    )
    print(f"recorded {len(todo)} scenario(s) into {HISTORIES}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
