"""Benchmark: spillover + used-for-work over 10,000 people × one week of calendar events, one core.

Synthetic but shaped like a real week: ~25 events per person (meetings on every weekday, a few
accepted over the Learning Day, some learning blocks on other days, focus time, declines),
people spread over a dozen timezones, plans and summaries with and without work words.
Prints seconds and people per second; asserts nothing about speed.

    .venv/bin/python bench/policy_scan.py [people]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

from learningday.contracts.calendar import CalendarEvent
from policies.policy import Policy
from policies.schedule import day_instants
from policies.spillover import local_day, spillover
from policies.used_for_work import used_for_work

MONDAY = dt.date(2026, 11, 30)
ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
]
TITLES = [
    "Standup",
    "Sprint planning",
    "1:1",
    "Design review",
    "Customer call",
    "Self-study: Rust",
    "Course: statistics",
    "Lunch",
    "Focus",
    "Paper reading group",
]
PLANS = [
    "Read the Raft paper and implement leader election",
    "Linear algebra, chapter 3",
    "Fix the Jira ticket for the release",
    "Tutorial on Rust lifetimes, continue tomorrow",
]


def synthetic_week(rng: random.Random, timezone: str) -> list[CalendarEvent]:
    events = []
    for day_index in range(5):
        start, _ = local_day(MONDAY + dt.timedelta(days=day_index), timezone)
        for n in range(5):
            begins = start + dt.timedelta(hours=8 + rng.randrange(10), minutes=rng.choice((0, 30)))
            title = rng.choice(TITLES)
            events.append(
                CalendarEvent(
                    event_id=f"e{day_index}{n}",
                    title=title,
                    starts_at=begins,
                    ends_at=begins + dt.timedelta(minutes=rng.choice((15, 30, 60, 90, 120))),
                    event_type="focusTime" if title == "Focus" else "default",
                    organizer_self=rng.random() < 0.2,
                    response_status=rng.choice(("accepted", "accepted", "tentative", "declined", "needsAction")),
                    attendee_count=rng.choice((1, 2, 4, 8)),
                )
            )
    return events


def main(people: int = 10_000) -> None:
    rng = random.Random(7)
    policy = Policy()
    thursday = MONDAY + dt.timedelta(days=policy.learning_weekday_index)
    population = []
    for i in range(people):
        timezone = ZONES[i % len(ZONES)]
        population.append((timezone, synthetic_week(rng, timezone), rng.choice(PLANS), rng.choice(PLANS)))
    events = sum(len(p[1]) for p in population)

    started = time.perf_counter()
    flags = 0
    for timezone, week, plan, summary in population:
        instants = day_instants(policy, timezone, thursday)
        flags += used_for_work(policy, (instants.day_start, instants.day_end), week, plan, summary) is not None
        flags += spillover(policy, timezone, MONDAY, week, [("plan", plan), ("summary", summary)]) is not None
    elapsed = time.perf_counter() - started
    print(f"people: {people}, events: {events}, flags: {flags}")
    print(f"seconds: {elapsed:.2f}, people/s: {people / elapsed:,.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
