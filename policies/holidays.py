"""Company holidays: a Learning Day that falls on one is skipped, never counted as a miss.

Rule (seed): "Holidays, personal out-of-office and approved exceptions are not misses." The
policy names a country (and optionally a subdivision) from the `holidays` package plus the
company's own `extra_dates`.

Safe inside a Temporal workflow: the answer depends only on the policy and the date. Two
things in the `holidays` package would trip the workflow sandbox, and both are handled here:
- building a calendar reads translation catalogues (`gettext`, `open`), and its modules import
  `dateutil`, which calls `time.localtime()`: so the package is imported passed through;
- each country's module is imported lazily (`importlib.import_module`) on first use, which
  inside a workflow would re-import it in the sandbox: so `_entity` imports it first, passed
  through, and nothing here asks the package about every country at once.
Calendars are built in English (or the country's own language when English is not offered),
never from the worker's `LANG`, so every worker and every replay gets the same names.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import holidays as _holidays
    from holidays.registry import EntityLoader

if TYPE_CHECKING:
    from policies.policy import Policy

EXTRA_DATE_NAME = "Company holiday"


def company_holiday(policy: Policy, date: dt.date) -> str | None:
    """The name of the holiday on `date` for this company, or None on an ordinary day.

    `holidays.extra_dates` (company-wide days off) are checked first, then the public holidays
    of `holidays.country` / `holidays.subdivision`. Several holidays on one day are joined
    with "; " as the `holidays` package does.
    """
    rules = policy.holidays
    if date in rules.extra_dates:
        return EXTRA_DATE_NAME
    if rules.country is None:
        return None
    return _calendar(rules.country, rules.subdivision, date.year).get(date)


def warm_up(policy: Policy, today: dt.date) -> None:
    """Import the policy's country and build this year's and next year's calendars now.

    For the worker's start, outside any workflow: the first import of a country loads
    `holidays.countries`, every country's module (~200), which on a loaded machine took over two
    seconds inside the first Learning Day's workflow task, and the sandbox's deadlock detector
    failed that task. Passed through and cached, it is then paid once per process, up front."""
    for year in (today.year, today.year + 1):
        company_holiday(policy, dt.date(year, 1, 1))


@lru_cache(maxsize=512)
def _calendar(country: str, subdivision: str | None, year: int) -> Mapping[dt.date, str]:
    """One year's public holidays, as a read-only snapshot.

    A snapshot rather than the `HolidayBase` itself: looking up a date of another year in a
    `HolidayBase` silently adds that year to it, and a shared cached object must not change.
    """
    entity = _entity(country)
    # Deterministic despite the file reads: the catalogues are package data and the language
    # is fixed, so the sandbox's checks (gettext imports `locale` as it runs) can be lifted.
    with workflow.unsafe.sandbox_unrestricted(), workflow.unsafe.imports_passed_through():
        calendar = entity(subdiv=subdivision, years=year, language=_language(entity))
    return MappingProxyType(dict(calendar))


def _language(entity: type[_holidays.HolidayBase]) -> str | None:
    return "en_US" if "en_US" in entity.supported_languages else entity.default_language


def _entity(country: str) -> type[_holidays.HolidayBase]:
    """The country's holidays class, its module imported (passed through) if not yet loaded."""
    loader = getattr(_holidays, country)
    if isinstance(loader, EntityLoader) and loader.entity is None:
        with workflow.unsafe.imports_passed_through():
            __import__(loader.module_name)
        return loader.get_entity()  # type: ignore[return-value]  # holidays annotates get_entity() as returning an instance; it returns the class
    return loader.get_entity() if isinstance(loader, EntityLoader) else loader  # type: ignore[return-value]  # get_entity(), as above


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    # From the registry's table: `holidays.list_supported_countries()` would import all
    # ~250 country modules to list their subdivisions.
    return frozenset(EntityLoader.get_country_codes(include_aliases=True))


def region_problem(country: str | None, subdivision: str | None) -> str | None:
    """What is wrong with a policy's holiday region, or None when the `holidays` package knows it.

    Messages start with the dotted field path so the policy loader can point at the line.
    """
    if country is None:
        if subdivision is not None:
            return (
                "holidays.subdivision needs holidays.country: set the country the "
                f"subdivision {subdivision!r} belongs to"
            )
        return None
    supported = _country_codes()
    if country not in supported:
        return (
            f"holidays.country: {country!r} is not a country the holidays package knows; use an "
            'ISO 3166-1 alpha-2 code such as US, GB or DE, or "" for no public holidays'
            + _did_you_mean(country.upper(), supported)
        )
    if subdivision is None:
        return None
    entity = _entity(country)
    known = set(entity.subdivisions) | set(entity.subdivisions_aliases)
    if subdivision in known:
        return None
    if not entity.subdivisions:
        return f"holidays.subdivision: {country} has no subdivisions in the holidays package; remove it"
    return (
        f"holidays.subdivision: {subdivision!r} is not a subdivision of {country}; use one of "
        + ", ".join(entity.subdivisions)
        + _did_you_mean(subdivision, known)
    )


def _did_you_mean(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
