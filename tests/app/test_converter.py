"""The data converter shares type adapters for passed-through types and keeps the wire format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from temporalio.contrib.pydantic import pydantic_data_converter

from learningday.contracts.day import DayKey
from learningday.temporal import converter


async def test_payloads_are_exactly_those_of_the_pydantic_converter() -> None:
    key = DayKey(person_id=7, date=dt.date(2026, 12, 3), workflow_id="learning-day-7-2026-12-03")
    ours = await converter.data_converter.encode([key])
    assert ours == await pydantic_data_converter.encode([key])
    assert await converter.data_converter.decode(ours, [DayKey]) == [key]


@dataclass(frozen=True)
class Elsewhere:
    """A payload type outside the passed-through modules, as a workflow module's own would be."""

    person_id: int
    date: dt.date


def test_a_contracts_type_gets_one_adapter_per_process_and_any_other_type_none() -> None:
    def decode(value: object, hint: type) -> object:
        payload_converter = converter.SharedAdapterPayloadConverter()  # one per workflow instance
        return payload_converter.from_payloads(payload_converter.to_payloads([value]), [hint])[0]

    key = DayKey(person_id=1, date=dt.date(2026, 12, 3), workflow_id="w")
    converter._shared_adapter.cache_clear()
    assert decode(key, DayKey) == key and decode(key, DayKey) == key
    assert converter._shared_adapter.cache_info().currsize == 1  # built once for both instances

    # Modules outside the passthrough are imported afresh in every sandbox: never kept here.
    day = Elsewhere(person_id=1, date=dt.date(2026, 12, 3))
    assert decode(day, Elsewhere) == day
    assert decode([day], list[Elsewhere]) == [day]  # "builtins", but not shareable
    assert converter._shared_adapter.cache_info().currsize == 1
    assert decode([key], list[DayKey]) == [key]
    assert converter._shared_adapter.cache_info().currsize == 2
