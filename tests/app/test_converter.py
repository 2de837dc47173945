"""The data converter shares type adapters for passed-through types and keeps the wire format."""

from __future__ import annotations

import datetime as dt

from temporalio.contrib.pydantic import pydantic_data_converter

from activities.records.day import DayKey
from learningday.temporal import converter
from workflows.learning_day import LearningDayInput


async def test_payloads_are_exactly_those_of_the_pydantic_converter() -> None:
    key = DayKey(person_id=7, date=dt.date(2026, 12, 3), workflow_id="learning-day-7-2026-12-03")
    ours = await converter.data_converter.encode([key])
    assert ours == await pydantic_data_converter.encode([key])
    assert await converter.data_converter.decode(ours, [DayKey]) == [key]


def test_an_activity_type_gets_one_adapter_per_process_and_a_workflow_type_none() -> None:
    def decode(value: object, hint: type) -> object:
        payload_converter = converter.SharedAdapterPayloadConverter()  # one per workflow instance
        return payload_converter.from_payloads(payload_converter.to_payloads([value]), [hint])[0]

    key = DayKey(person_id=1, date=dt.date(2026, 12, 3), workflow_id="w")
    converter._shared_adapter.cache_clear()
    assert decode(key, DayKey) == key and decode(key, DayKey) == key
    assert converter._shared_adapter.cache_info().currsize == 1  # built once for both instances

    # Workflow modules are imported afresh in every sandbox: their types are never kept here.
    day = LearningDayInput(person_id=1, date=dt.date(2026, 12, 3))
    assert decode(day, LearningDayInput) == day
    assert decode([day], list[LearningDayInput]) == [day]  # "builtins", but not shareable
    assert converter._shared_adapter.cache_info().currsize == 1
    assert decode([key], list[DayKey]) == [key]
    assert converter._shared_adapter.cache_info().currsize == 2
