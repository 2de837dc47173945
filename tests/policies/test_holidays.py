"""Company holidays: public holidays of the policy's country/subdivision plus the company's own days."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import holidays
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from policies.holidays import EXTRA_DATE_NAME, company_holiday
from policies.policy import Policy
from tests.policies.holiday_workflow import HolidayLookup

THANKSGIVING_2026 = dt.date(2026, 11, 26)
CORPUS_CHRISTI_2026 = dt.date(2026, 6, 4)  # a Thursday; a holiday in Bavaria, not in Berlin


def policy(**holidays: object) -> Policy:
    return Policy.model_validate({"holidays": holidays})


def test_us_thanksgiving_is_a_thursday_holiday_by_default() -> None:
    assert THANKSGIVING_2026.weekday() == 3
    assert company_holiday(Policy(), THANKSGIVING_2026) == "Thanksgiving Day"


def test_an_ordinary_thursday_is_not_a_holiday() -> None:
    assert company_holiday(Policy(), dt.date(2026, 11, 19)) is None


def test_a_german_subdivision_has_its_own_holidays() -> None:
    assert CORPUS_CHRISTI_2026.weekday() == 3
    assert company_holiday(policy(country="DE", subdivision="BY"), CORPUS_CHRISTI_2026) == "Corpus Christi"
    assert company_holiday(policy(country="DE", subdivision="BE"), CORPUS_CHRISTI_2026) is None
    assert company_holiday(policy(country="DE"), CORPUS_CHRISTI_2026) is None


def test_holiday_names_are_english_whatever_the_worker_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")

    assert company_holiday(policy(country="DE"), dt.date(2026, 10, 3)) == "German Unity Day"


def test_extra_dates_are_company_holidays_even_without_a_country() -> None:
    rules = policy(country="", extra_dates=["2026-12-24"])

    assert company_holiday(rules, dt.date(2026, 12, 24)) == EXTRA_DATE_NAME
    assert company_holiday(rules, THANKSGIVING_2026) is None  # no country: no public holidays


def test_extra_dates_add_to_the_public_holidays() -> None:
    rules = policy(country="US", extra_dates=[dt.date(2026, 12, 24)])

    assert company_holiday(rules, dt.date(2026, 12, 24)) == EXTRA_DATE_NAME
    assert company_holiday(rules, THANKSGIVING_2026) == "Thanksgiving Day"


def test_each_year_has_its_own_holidays() -> None:
    assert company_holiday(Policy(), dt.date(2027, 11, 25)) == "Thanksgiving Day"
    assert company_holiday(Policy(), dt.date(2026, 11, 25)) is None


@pytest.mark.parametrize(
    ("holidays", "message"),
    [
        ({"country": "XX"}, "holidays.country: 'XX' is not a country"),
        ({"country": "DE", "subdivision": "CA"}, "holidays.subdivision: 'CA' is not a subdivision of DE"),
        ({"country": "", "subdivision": "BY"}, "holidays.subdivision needs holidays.country"),
    ],
)
def test_an_unknown_region_is_refused_by_the_model(holidays: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        policy(**holidays)


# --- inside a Temporal workflow -----------------------------------------------------------


@pytest.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server")
    )
    yield env
    await env.shutdown()


async def test_company_holiday_works_inside_the_workflow_sandbox(skipping_env: WorkflowEnvironment) -> None:
    # The sandbox forbids what building a holiday calendar does (gettext, open, the lazy
    # import of each country's class on first use): the workflow imports policies.holidays
    # without passing it through, so this proves the module copes on its own, for countries
    # whose class the `holidays` registry has not resolved yet, including validating a
    # subdivision inside the workflow.
    assert holidays.JP.entity is None and holidays.NZ.entity is None, "precondition: not resolved yet"
    queue = f"holidays-{uuid.uuid4()}"
    # Raw JSON: building the Policy here would load the countries outside the sandbox.
    japan = '{"holidays": {"country": "JP"}}'
    auckland = '{"holidays": {"country": "NZ", "subdivision": "AUK", "extra_dates": ["2026-12-24"]}}'
    async with Worker(skipping_env.client, task_queue=queue, workflows=[HolidayLookup]):

        async def lookup(policy_json: str, date: dt.date) -> str | None:
            return await skipping_env.client.execute_workflow(
                HolidayLookup.run,
                args=[policy_json, date.isoformat()],
                id=f"holiday-{uuid.uuid4()}",
                task_queue=queue,
                execution_timeout=dt.timedelta(seconds=30),
            )

        assert await lookup(japan, dt.date(2026, 11, 3)) == "Culture Day"
        assert await lookup(auckland, dt.date(2026, 1, 26)) == "Auckland Anniversary Day"
        assert await lookup(auckland, dt.date(2026, 12, 24)) == EXTRA_DATE_NAME
        assert await lookup(Policy().model_dump_json(), THANKSGIVING_2026) == "Thanksgiving Day"
        assert await lookup(Policy().model_dump_json(), dt.date(2026, 11, 19)) is None


WARM_UP_IN_A_FRESH_PROCESS = """
import datetime as dt, sys
from policies.holidays import _calendar, warm_up
from policies.policy import Policy
assert "holidays.countries" not in sys.modules
warm_up(Policy.model_validate({"holidays": {"country": "DE", "subdivision": "BY"}}), dt.date(2026, 11, 29))
assert "holidays.countries" in sys.modules
assert _calendar.cache_info().currsize == 2, _calendar.cache_info()
"""


def test_warming_up_loads_the_countries_and_this_and_next_years_calendars_before_any_workflow() -> None:
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", WARM_UP_IN_A_FRESH_PROCESS], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


async def test_the_worker_warms_the_holidays_of_its_policy_up_when_it_is_built(
    temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import policies.holidays
    from learningday.settings import Settings
    from learningday.temporal.worker import Ports, build_workers
    from tests.workflows.conftest import FakeCalendar, FakeChat

    warmed: list[tuple[Policy, dt.date]] = []
    monkeypatch.setattr(policies.holidays, "warm_up", lambda policy, today: warmed.append((policy, today)))
    policy = Policy.model_validate({"holidays": {"country": "FR"}})

    build_workers(
        temporal_env.client, Settings(), Ports(calendar=FakeCalendar(), chat=FakeChat()), policy_loader=lambda: policy
    )

    assert warmed == [(policy, dt.date.today())]
