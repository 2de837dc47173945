"""The enforcement rules, edge by edge: deadlines, grace, absences, allowances, timezones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from learningday.contracts.calendar import CalendarEvent
from policies.enforcement import (
    check_in_missed,
    consecutive_misses,
    escalation_recipients,
    matched_phrases,
    summary_followed_plan,
)
from policies.policy import Policy
from policies.schedule import day_instants
from policies.spillover import spillover
from policies.used_for_work import used_for_work

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
THURSDAY = dt.date(2026, 12, 3)
MONDAY = dt.date(2026, 11, 30)
GRACE = dt.timedelta(minutes=30)


def at(day: dt.date, hh: int, mm: int = 0, tz: dt.tzinfo = BERLIN) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tz).astimezone(UTC)


def meeting(start: dt.datetime, minutes: int, title: str = "Sprint review", **kw: object) -> CalendarEvent:
    fields: dict[str, object] = {"response_status": "accepted", "attendee_count": 4}
    fields.update(kw)
    return CalendarEvent(
        event_id=f"e{start.timestamp():.0f}{minutes}",
        title=title,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )


HOLD = (at(THURSDAY, 9), at(THURSDAY, 17, 30))


# --- used for leisure: missed check-ins ------------------------------------------------------


class TestMissedCheckIn:
    deadline = at(THURSDAY, 12)

    def test_a_plan_exactly_at_the_deadline_plus_grace_is_on_time(self) -> None:
        cutoff = self.deadline + GRACE
        assert not check_in_missed(cutoff, self.deadline, GRACE, now=cutoff + dt.timedelta(hours=1))

    def test_a_plan_within_grace_is_not_a_miss(self) -> None:
        late = self.deadline + dt.timedelta(minutes=29)
        assert not check_in_missed(late, self.deadline, GRACE, now=late)

    def test_a_plan_one_second_after_grace_is_a_miss(self) -> None:
        late = self.deadline + GRACE + dt.timedelta(seconds=1)
        assert check_in_missed(late, self.deadline, GRACE, now=late)

    def test_nothing_is_missed_before_the_cutoff_has_passed(self) -> None:
        now = self.deadline + GRACE - dt.timedelta(seconds=1)
        assert not check_in_missed(None, self.deadline, GRACE, now=now)
        assert check_in_missed(None, self.deadline, GRACE, now=self.deadline + GRACE)

    def test_a_partial_day_absence_over_the_deadline_excuses_the_plan(self) -> None:
        dentist = (at(THURSDAY, 11), at(THURSDAY, 13))
        assert not check_in_missed(None, self.deadline, GRACE, now=at(THURSDAY, 18), away=[dentist])

    def test_a_morning_absence_does_not_excuse_the_evening_summary(self) -> None:
        morning = (at(THURSDAY, 8), at(THURSDAY, 12))
        summary_deadline = at(THURSDAY, 20)
        assert check_in_missed(None, summary_deadline, GRACE, now=at(THURSDAY, 22), away=[morning])

    def test_an_absence_ending_exactly_at_the_deadline_does_not_excuse(self) -> None:
        until_noon = (at(THURSDAY, 9), self.deadline)
        assert check_in_missed(None, self.deadline, GRACE, now=at(THURSDAY, 13), away=[until_noon])

    def test_deadlines_are_each_persons_local_noon(self) -> None:
        policy = Policy()
        tokyo = day_instants(policy, "Asia/Tokyo", THURSDAY)
        la = day_instants(policy, "America/Los_Angeles", THURSDAY)
        assert tokyo.plan_deadline == dt.datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
        assert la.plan_deadline == dt.datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
        # A plan sent at 04:00 UTC is on time in Los Angeles (20:00 the day before)
        # and a miss in Tokyo (13:00, past noon plus 30 minutes' grace).
        sent = dt.datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
        assert check_in_missed(sent, tokyo.plan_deadline, GRACE, now=sent)
        assert not check_in_missed(sent, la.plan_deadline, GRACE, now=sent)


# --- used for work ---------------------------------------------------------------------------


class TestUsedForWork:
    def test_meetings_exactly_at_the_allowance_are_tolerated(self) -> None:
        events = [meeting(at(THURSDAY, 10), 60)]
        assert used_for_work(Policy(), HOLD, events) is None

    def test_a_minute_over_the_allowance_is_flagged_with_the_meetings(self) -> None:
        events = [meeting(at(THURSDAY, 10), 30, "Sprint planning"), meeting(at(THURSDAY, 14), 31, "1:1 Bob")]
        finding = used_for_work(Policy(), HOLD, events)
        assert finding is not None and finding.kind == "used_for_work"
        assert "61 minutes of meetings" in finding.reason and "allowance 60" in finding.reason
        assert [e["title"] for e in finding.events] == ["Sprint planning", "1:1 Bob"]
        assert "Meeting accepted: Sprint planning (4 attendees)" in finding.evidence

    def test_double_booked_meetings_count_once(self) -> None:
        events = [meeting(at(THURSDAY, 10), 50), meeting(at(THURSDAY, 10, 20), 40)]
        assert used_for_work(Policy(), HOLD, events) is None  # 10:00-11:00 = 60 minutes

    def test_only_the_part_inside_the_hold_counts(self) -> None:
        events = [meeting(at(THURSDAY, 7), 150)]  # 07:00-09:30, 30 minutes inside the hold
        assert used_for_work(Policy(), HOLD, events) is None

    def test_uncommitted_and_non_meeting_events_do_not_count(self) -> None:
        start = at(THURSDAY, 9)
        events = [
            meeting(start, 120, response_status="declined"),
            meeting(start, 120, response_status="tentative"),
            meeting(start, 120, response_status="needsAction"),
            meeting(start, 120, transparency="transparent"),
            meeting(start, 120, attendee_count=1, organizer_self=True),
            meeting(start, 120, event_type="focusTime"),
            meeting(start, 120, is_ours=True),
            meeting(start, 120, title="Paper reading group: study session"),
        ]
        assert used_for_work(Policy(), HOLD, events) is None

    def test_meetings_the_person_organised_count(self) -> None:
        events = [meeting(at(THURSDAY, 9), 90, organizer_self=True, response_status=None)]
        finding = used_for_work(Policy(), HOLD, events)
        assert finding is not None and "Meeting organised" in finding.evidence[0]

    def test_meetings_during_a_partial_day_absence_are_not_counted(self) -> None:
        events = [meeting(at(THURSDAY, 9), 120)]
        away = [(at(THURSDAY, 9), at(THURSDAY, 10))]
        assert used_for_work(Policy(), HOLD, events, away=away) is None

    def test_work_words_in_the_summary_are_named(self) -> None:
        finding = used_for_work(
            Policy(),
            HOLD,
            [],
            plan="Read the Raft paper",
            summary="Mostly a hotfix for the Jira ticket, then a deploy",
        )
        assert finding is not None
        assert finding.evidence == ["Work words in the summary: hotfix, jira, ticket, deploy"]
        assert "the summary reads as project work" in finding.reason

    def test_words_match_whole_words_only(self) -> None:
        assert matched_phrases("Learned about deployment strategies and releases", ["deploy", "release"]) == []
        assert matched_phrases("A  BUG\nFIX", ["bug fix"]) == ["bug fix"]

    def test_a_work_category_is_flagged(self) -> None:
        policy = Policy.model_validate({"used_for_work": {"work_categories": ["project"]}})
        finding = used_for_work(policy, HOLD, [], plan="Stuff", plan_category="project")
        assert finding is not None and finding.evidence == ["Plan category: project"]

    def test_a_learning_plan_and_an_empty_calendar_is_kept(self) -> None:
        assert used_for_work(Policy(), HOLD, [], plan="Linear algebra, chapter 3", summary="Did eigenvalues") is None


# --- weekday spillover -----------------------------------------------------------------------


class TestSpillover:
    def test_learning_blocks_within_the_weekly_allowance_are_tolerated(self) -> None:
        events = [meeting(at(MONDAY, 14), 120, "Self-study: Rust", attendee_count=1)]
        assert spillover(Policy(), "Europe/Berlin", MONDAY, events) is None

    def test_learning_blocks_over_the_allowance_are_flagged_per_day(self) -> None:
        tuesday, friday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=4)
        events = [
            meeting(at(tuesday, 9), 60, "Course: statistics", attendee_count=1),
            meeting(at(friday, 9), 61, "Tutorial time", attendee_count=1),
        ]
        finding = spillover(Policy(), "Europe/Berlin", MONDAY, events)
        assert finding is not None and finding.kind == "spillover"
        assert "121 minutes of learning on other weekdays" in finding.reason
        assert finding.evidence == [
            "Learning block on Tuesday: Course: statistics",
            "Learning block on Friday: Tutorial time",
        ]

    def test_our_hold_moved_to_another_weekday_counts(self) -> None:
        wednesday = MONDAY + dt.timedelta(days=2)
        events = [meeting(at(wednesday, 9), 8 * 60, "Focus", is_ours=True, attendee_count=0)]
        finding = spillover(Policy(), "Europe/Berlin", MONDAY, events)
        assert finding is not None and finding.evidence == ["Learning Day hold on Wednesday: Focus"]

    def test_the_learning_day_itself_and_the_weekend_do_not_count(self) -> None:
        saturday = MONDAY + dt.timedelta(days=5)
        events = [
            meeting(at(THURSDAY, 9), 8 * 60, "Learning Day", is_ours=True),
            meeting(at(saturday, 9), 8 * 60, "Course: piano"),
        ]
        assert spillover(Policy(), "Europe/Berlin", MONDAY, events) is None

    def test_weekdays_are_the_persons_own(self) -> None:
        # Wednesday 16:00-20:00 UTC is already Thursday (the Learning Day) in Tokyo from 15:00 UTC.
        wednesday_utc = dt.datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
        events = [meeting(wednesday_utc, 240, "Study block", attendee_count=1)]
        assert spillover(Policy(), "Asia/Tokyo", MONDAY, events) is None
        assert spillover(Policy(), "America/New_York", MONDAY, events) is not None

    def test_declined_learning_events_and_time_away_do_not_count(self) -> None:
        tuesday = MONDAY + dt.timedelta(days=1)
        events = [
            meeting(at(tuesday, 9), 300, "ML course", response_status="declined"),
            meeting(at(tuesday, 13), 300, "Course day"),
        ]
        away = [(at(tuesday, 12), at(tuesday, 18))]
        assert spillover(Policy(), "Europe/Berlin", MONDAY, events, away=away) is None

    def test_a_plan_that_continues_tomorrow_is_flagged_on_its_own(self) -> None:
        finding = spillover(
            Policy(),
            "Europe/Berlin",
            MONDAY,
            [],
            check_ins=[("plan", "Transformers from scratch"), ("summary", "Got halfway, will continue tomorrow")],
        )
        assert finding is not None
        assert finding.evidence == ["In the summary: 'continue tomorrow'"]

    def test_a_dst_week_counts_local_days(self) -> None:
        # The week of the October change in Europe: Tuesday's block is still Tuesday locally.
        monday = dt.date(2026, 10, 26)
        events = [meeting(at(monday + dt.timedelta(days=1), 0, 30), 150, "Study", attendee_count=1)]
        finding = spillover(Policy(), "Europe/Berlin", monday, events)
        assert finding is not None and "150 minutes" in finding.reason


# --- plan versus summary, escalation ----------------------------------------------------------


class TestPlanVersusSummary:
    def test_a_summary_on_the_planned_topic_follows_the_plan(self) -> None:
        followed = summary_followed_plan(
            "Read the Attention Is All You Need paper and implement attention in numpy",
            "Implemented scaled dot-product attention in NumPy; the paper's figure 2 finally clicked",
        )
        assert followed.followed and followed.overlap == ["attention", "implement", "numpy", "paper"]

    def test_a_summary_on_something_else_does_not(self) -> None:
        followed = summary_followed_plan("Bayesian inference, chapter 2", "Practised the guitar scales")
        assert not followed.followed and followed.overlap == []

    def test_a_missing_check_in_follows_nothing(self) -> None:
        assert summary_followed_plan(None, "Did things") == summary_followed_plan("Rust", None)
        assert not summary_followed_plan("Rust", None).followed


class TestEscalation:
    def test_skipped_days_neither_count_nor_break_a_run(self) -> None:
        assert consecutive_misses(["kept", "missed", None, "missed", "missed"]) == 3
        assert consecutive_misses(["missed", "kept"]) == 0
        assert consecutive_misses([]) == 0

    def test_the_managers_manager_hears_from_the_nth_miss(self) -> None:
        policy = Policy()  # 3 in a row, person notified too
        assert escalation_recipients(2, policy) == ["manager", "person"]
        assert escalation_recipients(3, policy) == ["manager", "manager_of_manager", "person"]

    def test_the_person_is_left_out_when_the_policy_says_so(self) -> None:
        policy = Policy.model_validate({"escalation": {"notify_person": False, "consecutive_misses_to_skip_level": 1}})
        assert escalation_recipients(1, policy) == ["manager", "manager_of_manager"]
