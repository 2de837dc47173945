"""The policy file model: every rule of the program an admin may tune, with defaults from the seed.

The seed (OpenAI's "Learning Day") fixes the shape: one weekday for every team, a plan in the
morning and a summary at the end of the day shared in Slack, no leakage into other weekdays,
reasonable self-study expenses reimbursed. The numbers below are our defaults for that shape.
Pure data: safe to pass into workflows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

# The seed's list of what Learning Day is for, as check-in categories.
SEED_CATEGORIES: dict[str, str] = {
    "papers": "Reading or reimplementing papers",
    "tutorials": "Tutorials and courses",
    "side_research": "A small side research project",
    "fundamentals": "Fundamentals: linear algebra, statistics…",
    "ml_fundamentals": "ML fundamentals: information theory, Bayesian inference…",
    "engineering": "Engineering: languages, frameworks, tools",
    "management": "Management: self-management, prioritisation, how labs work",
    "mechanical_engineering": "Mechanical engineering",
    "other_skill": "Any other skill that levels you up",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _clock(value: object) -> object:
    """Accept "09:30" (and TOML local times) for local wall-clock times.

    Anything else is refused: pydantic would read a number as seconds after midnight in UTC
    (so a YAML `10:30`, which YAML 1.1 reads as the number 630, would become 00:10:30), and a
    time with an offset is not a local wall-clock time.
    """
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"expected a time like 09:30, got {value!r}") from error
    if not isinstance(value, dt.time):
        raise ValueError(f'expected a time like "09:30" (in quotes), got {value!r}')
    if value.tzinfo is not None:
        raise ValueError(
            f"expected a local time without an offset, got {value.isoformat()!r}: every time "
            "is in each person's own timezone"
        )
    return value


def _blank_is_none(value: object) -> object:
    """TOML has no null: an empty string switches an optional setting off."""
    return None if value == "" else value


class ProgramPolicy(_Section):
    learning_weekday: Weekday = "thursday"
    # How many days ahead of the day the weekly Schedule starts each person's workflow, so
    # the calendar hold is in place before anyone books over it.
    start_days_ahead: int = Field(default=2, ge=0, le=6)


class WorkingHours(_Section):
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 30)

    _parse = field_validator("start", "end", mode="before")(_clock)

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("working_hours.end must be after working_hours.start")
        return self


class CalendarPolicy(_Section):
    hold_title: str = Field(default="Learning Day", min_length=1, max_length=200)
    focus_time: bool = True
    auto_decline: Literal["declineNone", "declineAllConflictingInvitations", "declineOnlyNewConflictingInvitations"] = (
        "declineOnlyNewConflictingInvitations"
    )
    decline_message: str = "It's my Learning Day: I'm self-studying today."


class CheckInPolicy(_Section):
    plan_prompt: dt.time = dt.time(9, 0)
    plan_reminders: list[dt.time] = Field(default_factory=lambda: [dt.time(10, 30)])
    plan_deadline: dt.time = dt.time(12, 0)
    plan_grace_minutes: int = Field(default=30, ge=0, le=24 * 60)
    summary_prompt: dt.time = dt.time(16, 30)
    summary_reminders: list[dt.time] = Field(default_factory=lambda: [dt.time(17, 30)])
    summary_deadline: dt.time = dt.time(20, 0)
    summary_grace_minutes: int = Field(default=60, ge=0, le=24 * 60)
    categories: dict[str, str] = Field(default_factory=lambda: dict(SEED_CATEGORIES))

    _parse = field_validator("plan_prompt", "plan_deadline", "summary_prompt", "summary_deadline", mode="before")(
        _clock
    )

    @field_validator("plan_reminders", "summary_reminders", mode="before")
    @classmethod
    def _parse_list(cls, value: object) -> object:
        return [_clock(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _ordered(self) -> CheckInPolicy:
        if not self.plan_prompt < self.plan_deadline:
            raise ValueError("checkins.plan_deadline must be after checkins.plan_prompt")
        if not self.summary_prompt < self.summary_deadline:
            raise ValueError("checkins.summary_deadline must be after checkins.summary_prompt")
        for i, r in enumerate(self.plan_reminders):
            if not self.plan_prompt < r < self.plan_deadline:
                raise ValueError(
                    f"checkins.plan_reminders[{i}]: {r:%H:%M} is not between checkins.plan_prompt"
                    f" ({self.plan_prompt:%H:%M}) and checkins.plan_deadline"
                    f" ({self.plan_deadline:%H:%M})"
                )
        for i, r in enumerate(self.summary_reminders):
            if not self.summary_prompt < r < self.summary_deadline:
                raise ValueError(
                    f"checkins.summary_reminders[{i}]: {r:%H:%M} is not between"
                    f" checkins.summary_prompt ({self.summary_prompt:%H:%M}) and"
                    f" checkins.summary_deadline ({self.summary_deadline:%H:%M})"
                )
        if not self.categories:
            raise ValueError("checkins.categories must name at least one category")
        return self


class ChannelPolicy(_Section):
    name: str = "#learning-day"
    post_plans: bool = True
    post_summaries: bool = True


class HolidayPolicy(_Section):
    country: str | None = "US"
    subdivision: str | None = None
    extra_dates: list[dt.date] = Field(default_factory=list)

    _blank = field_validator("country", "subdivision", mode="before")(_blank_is_none)

    @model_validator(mode="after")
    def _known_region(self) -> HolidayPolicy:
        # Imported here: policies.holidays needs the `holidays` package, not this module.
        from policies.holidays import region_problem

        problem = region_problem(self.country, self.subdivision)
        if problem:
            raise ValueError(problem)
        return self


class UsedForWorkPolicy(_Section):
    meeting_allowance_minutes: int = Field(default=60, ge=0)
    work_keywords: list[str] = Field(
        default_factory=lambda: [
            "sprint",
            "ticket",
            "jira",
            "bug fix",
            "bugfix",
            "hotfix",
            "deploy",
            "release",
            "on-call",
            "incident",
            "customer",
            "roadmap",
            "standup",
            "deadline",
        ]
    )
    work_categories: list[str] = Field(default_factory=list)


class SpilloverPolicy(_Section):
    allowance_minutes_per_week: int = Field(default=120, ge=0)
    learning_keywords: list[str] = Field(
        default_factory=lambda: ["learning day", "self-study", "study", "course", "tutorial"]
    )
    continuation_phrases: list[str] = Field(
        default_factory=lambda: ["continue tomorrow", "finish tomorrow", "rest of the week"]
    )


class EscalationPolicy(_Section):
    notify_person: bool = True
    consecutive_misses_to_skip_level: int = Field(default=3, ge=1)
    manager_slack_dm: bool = False


LABEL_MAX_LENGTH = 60  # a label names its category in a chart's label column and in email lines


def key_as_words(key: str) -> str:
    """A key nobody chose to read, as words: `conference_travel` → "Conference travel"."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


class ExpenseCategory(_Section):
    cap: Decimal = Field(gt=0)
    receipt_required: bool = True
    # What pages, emails and Slack call the category; its key as words when left out.
    label: str | None = None

    @field_validator("label")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text:
            raise ValueError(
                "a label cannot be empty: write the words people should read for this category,"
                " or leave `label` out to use its key as words"
            )
        if "\n" in text or "\r" in text:
            raise ValueError("a label is one line: it names the category in tables, charts and emails")
        if len(text) > LABEL_MAX_LENGTH:
            raise ValueError(
                f"a label of {len(text)} characters is too long: keep it to {LABEL_MAX_LENGTH}, it names"
                " the category in a chart's label column"
            )
        return text


class ReimbursementPolicy(_Section):
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    accepted_currencies: list[str] = Field(default_factory=lambda: ["USD", "EUR", "GBP"])
    annual_budget: Decimal = Field(default=Decimal("1500"), ge=0)
    categories: dict[str, ExpenseCategory] = Field(
        default_factory=lambda: {
            "books": ExpenseCategory(cap=Decimal("200"), label="Books"),
            "tutors": ExpenseCategory(cap=Decimal("800"), label="Tutors"),
            "courses": ExpenseCategory(cap=Decimal("1000"), label="Courses"),
        }
    )
    auto_approve_below: Decimal = Field(default=Decimal("0"), ge=0)
    second_approval_above: Decimal = Field(default=Decimal("500"), ge=0)
    second_approver: Literal["manager_of_manager", "finance"] = "manager_of_manager"
    finance_email: str | None = None
    reminder_after_days: int = Field(default=3, ge=1)
    escalate_after_days: int = Field(default=7, ge=1)
    expire_after_days: int = Field(default=30, ge=1)
    # Units of `currency` per unit of another accepted currency: caps and the annual budget
    # are in `currency`, so a claim in EUR is measured against them at this rate. A claim in a
    # currency without a rate is refused with a message naming this key (not the policy file,
    # so switching `currency` never breaks a working file).
    exchange_rates: dict[str, Decimal] = Field(default_factory=lambda: {"EUR": Decimal("1.10"), "GBP": Decimal("1.30")})
    # Approver email → who decides in their place while they are out of office (an absence
    # recorded for them). Someone not listed is stood in for by their own manager.
    delegates: dict[str, str] = Field(default_factory=dict)

    _blank = field_validator("finance_email", mode="before")(_blank_is_none)

    def category_label(self, key: str) -> str:
        """The words people read for an expense category: its `label`, else its key as words
        (also for a key the policy no longer has, on a claim older than an edit of the file)."""
        category = self.categories.get(key)
        return category.label if category is not None and category.label else key_as_words(key)

    @property
    def category_labels(self) -> dict[str, str]:
        """Every category's label by key, in the file's order."""
        return {key: self.category_label(key) for key in self.categories}

    @model_validator(mode="after")
    def _ordered(self) -> ReimbursementPolicy:
        if not self.reminder_after_days < self.escalate_after_days:
            raise ValueError(
                "reimbursement.escalate_after_days must be more than"
                f" reimbursement.reminder_after_days ({self.escalate_after_days} is not more"
                f" than {self.reminder_after_days})"
            )
        if not self.escalate_after_days < self.expire_after_days:
            raise ValueError(
                "reimbursement.expire_after_days must be more than"
                f" reimbursement.escalate_after_days ({self.expire_after_days} is not more"
                f" than {self.escalate_after_days})"
            )
        if self.second_approver == "finance" and not self.finance_email:
            raise ValueError(
                "reimbursement.finance_email is required when reimbursement.second_approver"
                ' = "finance": set the address that approves large claims'
            )
        return self


class Policy(_Section):
    """The whole policy file. Every section is optional; a missing one takes the seed's defaults."""

    program: ProgramPolicy = Field(default_factory=ProgramPolicy)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    checkins: CheckInPolicy = Field(default_factory=CheckInPolicy)
    channel: ChannelPolicy = Field(default_factory=ChannelPolicy)
    holidays: HolidayPolicy = Field(default_factory=HolidayPolicy)
    used_for_work: UsedForWorkPolicy = Field(default_factory=UsedForWorkPolicy)
    spillover: SpilloverPolicy = Field(default_factory=SpilloverPolicy)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    reimbursement: ReimbursementPolicy = Field(default_factory=ReimbursementPolicy)

    @property
    def learning_weekday_index(self) -> int:
        """Monday is 0, as in `datetime.date.weekday()`."""
        return WEEKDAYS.index(self.program.learning_weekday)
