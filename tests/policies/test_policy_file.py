"""The policy file: good files in TOML and YAML load; every bad one names its line and field."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from policies.loader import PolicyError, PolicyFileError, check_policy_text, load_policy
from policies.policy import Policy

DEFAULT_FILE = Path(__file__).parents[2] / "policies" / "default.toml"

GOOD_TOML = """\
[program]
learning_weekday = "wednesday"

[checkins]
plan_prompt = "08:30"
plan_reminders = ["09:30", "10:30"]
plan_deadline = "11:00"

[holidays]
country = "DE"
subdivision = "BY"
extra_dates = [2026-12-24, 2026-12-31]

[reimbursement]
currency = "EUR"
second_approver = "finance"
finance_email = "finance@example.com"

[reimbursement.categories.conferences]
cap = 1500.50
receipt_required = false
"""

GOOD_YAML = """\
program:
  learning_weekday: wednesday
checkins:
  plan_prompt: 08:30
  plan_reminders: [09:30, "10:30"]
  plan_deadline: 11:00
holidays:
  country: DE
  subdivision: BY
  extra_dates:
    - 2026-12-24
    - 2026-12-31
reimbursement:
  currency: EUR
  second_approver: finance
  finance_email: finance@example.com
  categories:
    conferences:
      cap: "1500.50"
      receipt_required: false
"""


def only_error(text: str, filename: str) -> PolicyError:
    errors = check_policy_text(text, filename)
    assert len(errors) == 1, errors
    return errors[0]


# --- good files -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [("policy.toml", GOOD_TOML), ("policy.yaml", GOOD_YAML)])
def test_a_good_file_loads_in_either_format(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    policy = load_policy(path)

    assert policy.program.learning_weekday == "wednesday"
    assert policy.checkins.plan_prompt == dt.time(8, 30)
    assert policy.checkins.plan_reminders == [dt.time(9, 30), dt.time(10, 30)]
    assert policy.checkins.summary_deadline == dt.time(20, 0)  # untouched: the default
    assert policy.holidays.extra_dates == [dt.date(2026, 12, 24), dt.date(2026, 12, 31)]
    assert policy.reimbursement.categories == {"conferences": policy.reimbursement.categories["conferences"]}
    assert policy.reimbursement.categories["conferences"].cap == Decimal("1500.50")
    assert policy.reimbursement.finance_email == "finance@example.com"


def test_the_same_policy_in_toml_and_yaml_is_equal(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD_TOML, encoding="utf-8")
    (tmp_path / "a.yml").write_text(GOOD_YAML, encoding="utf-8")

    assert load_policy(tmp_path / "a.toml") == load_policy(tmp_path / "a.yml")


@pytest.mark.parametrize("name", ["empty.toml", "empty.yaml"])
def test_an_empty_file_means_every_default(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("", encoding="utf-8")

    assert load_policy(tmp_path / name) == Policy()


def test_the_shipped_default_file_is_exactly_the_defaults() -> None:
    assert load_policy(DEFAULT_FILE) == Policy()


def test_the_shipped_default_file_mentions_every_setting() -> None:
    """Every field is set, or shown commented out where TOML cannot say "unset"."""
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    commented = set(re.findall(r"^# (\w+) = ", text, flags=re.MULTILINE))

    def missing(model: type, values: dict, prefix: str) -> list[str]:
        gaps = []
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                gaps += missing(annotation, values.get(name, {}), f"{prefix}{name}.")
            elif name not in values and name not in commented:
                gaps.append(prefix + name)
        return gaps

    assert missing(Policy, data, "") == []
    assert commented == {"subdivision", "finance_email"}


def test_yaml_clock_times_are_not_read_as_base_60_numbers(tmp_path: Path) -> None:
    # YAML 1.1 reads an unquoted 10:30 as 630; a policy must read it as half past ten.
    (tmp_path / "p.yaml").write_text("checkins:\n  plan_reminders: [10:30, 11:45]\n", encoding="utf-8")

    assert load_policy(tmp_path / "p.yaml").checkins.plan_reminders == [dt.time(10, 30), dt.time(11, 45)]


def test_norway_stays_a_country_in_yaml(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("holidays:\n  country: NO\n", encoding="utf-8")

    assert load_policy(tmp_path / "p.yaml").holidays.country == "NO"


def test_an_empty_country_switches_public_holidays_off() -> None:
    assert check_policy_text('[holidays]\ncountry = ""\n', "p.toml") == []


# --- bad files: each names the exact line and field --------------------------------------


def test_a_toml_syntax_error_gives_the_parsers_line() -> None:
    error = only_error('[program]\nlearning_weekday = "thursday"\n\n[checkins]\nplan_prompt = 09:00\n', "p.toml")

    assert (error.line, error.field) == (5, None)
    assert error.message.startswith("invalid TOML")


def test_a_yaml_syntax_error_gives_the_parsers_line() -> None:
    error = only_error("program:\n  learning_weekday: thursday\n checkins: [\n", "p.yaml")

    assert error.line == 3 and error.field is None
    assert error.message.startswith("invalid YAML")


def test_an_unknown_key_is_named_with_its_line_and_a_suggestion() -> None:
    text = '[program]\nlearning_weekday = "thursday"\n\n[checkins]\nplan_prompt = "09:00"\nplan_deadlin = "12:00"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (6, "checkins.plan_deadlin")
    assert error.message == "unknown key 'plan_deadlin' in [checkins]; did you mean 'plan_deadline'?"


def test_an_unknown_section_is_named_in_yaml() -> None:
    error = only_error("program:\n  start_days_ahead: 2\nchekins:\n  plan_prompt: 09:00\n", "p.yml")

    assert (error.line, error.field) == (3, "chekins")
    assert "did you mean 'checkins'?" in error.message


def test_an_unknown_key_far_from_any_known_one_lists_the_keys() -> None:
    error = only_error("[reimbursement.categories.books]\ncap = 10\ncolour = 'red'\n", "p.toml")

    assert (error.line, error.field) == (3, "reimbursement.categories.books.colour")
    assert error.message.endswith("the keys here are: cap, receipt_required, label")


def test_a_wrong_type_is_named_with_the_value() -> None:
    text = '[escalation]\nnotify_person = true\nconsecutive_misses_to_skip_level = "three"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (3, "escalation.consecutive_misses_to_skip_level")
    assert error.message.endswith("got 'three'")


def test_a_wrong_type_in_a_dotted_key_points_at_that_line() -> None:
    error = only_error('\nreimbursement.annual_budget = "lots"\n', "p.toml")

    assert (error.line, error.field) == (2, "reimbursement.annual_budget")


def test_an_impossible_time_is_named() -> None:
    text = '[working_hours]\nstart = "09:00"\nend = "25:00"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (3, "working_hours.end")
    assert error.message == "expected a time like 09:30, got '25:00'"


def test_a_bare_number_is_refused_as_a_time() -> None:
    error = only_error("[checkins]\nplan_prompt = 9\n", "p.toml")

    assert (error.line, error.field) == (2, "checkins.plan_prompt")
    assert 'expected a time like "09:30"' in error.message


def test_a_deadline_before_its_prompt_points_at_the_deadline() -> None:
    text = '[checkins]\nplan_prompt = "09:00"\nplan_reminders = []\nplan_deadline = "08:00"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (4, "checkins.plan_deadline")
    assert error.message == "must be after checkins.plan_prompt"


def test_a_prompt_moved_past_the_default_deadline_points_at_the_prompt() -> None:
    # plan_deadline is not in the file, so the key the admin did write is the one to fix.
    error = only_error("checkins:\n  plan_reminders: []\n  plan_prompt: '13:00'\n", "p.yaml")

    assert (error.line, error.field) == (3, "checkins.plan_deadline")


def test_a_reminder_outside_its_window_points_at_that_reminder() -> None:
    text = '[checkins]\nsummary_reminders = [\n  "17:00",\n  "21:00",\n]\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (4, "checkins.summary_reminders[1]")
    assert error.message == (
        "21:00 is not between checkins.summary_prompt (16:30) and checkins.summary_deadline (20:00)"
    )


def test_a_reminder_outside_its_window_in_yaml() -> None:
    text = "checkins:\n  plan_reminders:\n    - 10:00\n    - 08:00\n"
    error = only_error(text, "p.yaml")

    assert (error.line, error.field) == (4, "checkins.plan_reminders[1]")


def test_an_unknown_country_is_named() -> None:
    text = '[channel]\nname = "#ld"\n\n[holidays]\ncountry = "XX"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (5, "holidays.country")
    assert "'XX' is not a country the holidays package knows" in error.message


def test_a_lowercase_country_gets_a_suggestion() -> None:
    error = only_error("holidays:\n  country: de\n", "p.yaml")

    assert (error.line, error.field) == (2, "holidays.country")
    assert error.message.endswith("(did you mean 'DE'?)")


def test_an_unknown_subdivision_lists_the_real_ones() -> None:
    error = only_error('[holidays]\ncountry = "DE"\nsubdivision = "BZ"\n', "p.toml")

    assert (error.line, error.field) == (3, "holidays.subdivision")
    assert "'BZ' is not a subdivision of DE" in error.message and "BY" in error.message


def test_a_finance_approver_without_an_email_points_at_second_approver() -> None:
    text = '[reimbursement]\ncurrency = "USD"\nsecond_approver = "finance"\n'
    error = only_error(text, "p.toml")

    assert (error.line, error.field) == (3, "reimbursement.finance_email")
    assert error.message.startswith('is required when reimbursement.second_approver = "finance"')


def test_claim_timeouts_out_of_order_name_the_field_at_fault() -> None:
    error = only_error("[reimbursement]\nreminder_after_days = 3\nescalate_after_days = 40\n", "p.toml")

    assert (error.line, error.field) == (3, "reimbursement.expire_after_days")
    assert error.message == ("must be more than reimbursement.escalate_after_days (30 is not more than 40)")


def test_an_expense_category_is_called_by_its_label_or_else_its_key_as_words() -> None:
    text = '[reimbursement.categories.books]\ncap = 200\nlabel = "Books and e-books"\n\n[reimbursement.categories.conference_travel]\ncap = 900\n'
    assert check_policy_text(text, "p.toml") == []
    policy = load_policy_text(text)

    assert policy.reimbursement.category_labels == {
        "books": "Books and e-books",
        "conference_travel": "Conference travel",
    }
    assert policy.reimbursement.category_label("a_key_since_removed") == "A key since removed"


@pytest.mark.parametrize(
    ("label", "says"),
    [
        (
            '"  "',
            "a label cannot be empty: write the words people should read for this category, or leave `label` out to use its key as words",
        ),
        ('"""Books\nand more"""', "a label is one line: it names the category in tables, charts and emails"),
        (
            f'"{"x" * 61}"',
            "a label of 61 characters is too long: keep it to 60, it names the category in a chart's label column",
        ),
        ("3", "Input should be a valid string, got 3"),
    ],
    ids=["empty", "two-lines", "too-long", "not-text"],
)
def test_an_unreadable_expense_category_label_is_named_with_its_line(label: str, says: str) -> None:
    error = only_error(f"[reimbursement.categories.books]\ncap = 200\nlabel = {label}\n", "p.toml")

    assert (error.line, error.field, error.message) == (3, "reimbursement.categories.books.label", says)


def load_policy_text(text: str) -> Policy:
    from policies.loader import parse_policy_text

    policy, errors = parse_policy_text(text, "p.toml")
    assert policy is not None, errors
    return policy


def test_a_duplicate_yaml_key_is_an_error_naming_both_lines() -> None:
    error = only_error("holidays:\n  country: US\n  country: DE\n", "p.yaml")

    assert (error.line, error.field) == (3, "holidays.country")
    assert error.message == "duplicate key (first set on line 2)"


def test_a_top_level_list_is_refused() -> None:
    error = only_error("- checkins\n", "p.yaml")

    assert error.line == 1 and "found a list" in error.message


def test_several_problems_are_all_reported_in_line_order() -> None:
    text = '[checkins]\nplan_prompt = "7 am"\n\n[program]\nlearning_weekday = "thursdy"\nextra = 1\n'
    errors = check_policy_text(text, "p.toml")

    assert [(e.line, e.field) for e in errors] == [
        (2, "checkins.plan_prompt"),
        (5, "program.learning_weekday"),
        (6, "program.extra"),
    ]
    assert errors[1].message.endswith("got 'thursdy'")


def test_an_unknown_extension_is_refused() -> None:
    error = only_error("", "policy.json")

    assert error.line is None and ".toml, .yaml or .yml" in error.message


def test_load_policy_raises_with_one_line_per_error(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[checkins]\nplan_prompt = "25:00"\nplan_deadlin = "12:00"\n', encoding="utf-8")

    with pytest.raises(PolicyFileError) as raised:
        load_policy(path)

    assert str(raised.value).splitlines() == [
        f"{path}:2: checkins.plan_prompt: expected a time like 09:30, got '25:00'",
        f"{path}:3: checkins.plan_deadlin: unknown key 'plan_deadlin' in [checkins]; did you mean 'plan_deadline'?",
    ]


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as raised:
        load_policy(tmp_path / "nope.toml")

    assert raised.value.errors[0].line is None
    assert "cannot read the file" in str(raised.value)


TRICKY_TOML = """\
# a comment with [brackets] and key = "value"
[calendar]
decline_message = \"\"\"
[checkins]
plan_prompt = "not a key" \\\"\"\" still inside
\"\"\"
hold_title = 'C:\\Learning [Day]'   # trailing comment ]
"focus_time" = true

[ checkins ]
plan_reminders = [ # the reminders
  "10:00", # first
  # a comment line
  "07:00",
]
categories = { papers = "Papers", "odd key" = "x" }

[reimbursement . categories . "books"]
cap = 10
colour = "red"
"""


def test_line_numbers_survive_multiline_strings_quoted_keys_and_comments() -> None:
    assert tomllib.loads(TRICKY_TOML)["calendar"]["decline_message"].startswith("[checkins]")
    errors = check_policy_text(TRICKY_TOML, "p.toml")

    assert [(e.line, e.field) for e in errors] == [
        (14, "checkins.plan_reminders[1]"),
        (20, "reimbursement.categories.books.colour"),
    ]


def test_an_error_inside_an_inline_table_points_at_its_line() -> None:
    error = only_error("[reimbursement]\ncategories = { books = { cap = 0 } }\n", "p.toml")

    assert (error.line, error.field) == (2, "reimbursement.categories.books.cap")
