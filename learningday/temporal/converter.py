"""Temporal's pydantic data converter, with the type adapters of shared types built once per process.

`temporalio.contrib.pydantic` caches a `TypeAdapter` per type, but per converter, and the workflow
sandbox makes a converter per workflow instance: every new Learning Day or claim built the
adapters for the same activity results again (`DayContext` carries the whole `Policy`). In the
approval-click benchmark that was ~8 % of the worker's CPU. The types of the modules passed
through the sandbox (learningday.contracts, policies/ and the standard library) are the same
objects in every instance, so their adapters are kept here, once. Types defined anywhere else
may be re-imported in each sandbox; they keep the per-instance cache, so no dead sandbox is pinned.
The wire format is exactly pydantic_data_converter's.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

SHARED_MODULES = ("learningday.contracts.", "policies.", "builtins", "datetime", "decimal", "typing")


@functools.lru_cache(maxsize=512)
def _shared_adapter(type_hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(type_hint)


def _is_shared(type_hint: Any) -> bool:
    """From a passed-through module, and so is every argument (`list[X]` reports "builtins"
    whatever X is, and an X from a workflow module would pin that instance's sandbox)."""
    module = getattr(type_hint, "__module__", None)
    return (
        isinstance(module, str)
        and module.startswith(SHARED_MODULES)
        and _hashable(type_hint)
        and all(_is_shared(argument) for argument in typing.get_args(type_hint))
    )


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class SharedAdapterJSONConverter(PydanticJSONPlainPayloadConverter):
    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if type_hint is not None and _is_shared(type_hint):
            return _shared_adapter(type_hint).validate_json(payload.data)
        return super().from_payload(payload, type_hint)


class SharedAdapterPayloadConverter(CompositePayloadConverter):
    """pydantic's payload converter with `SharedAdapterJSONConverter` for JSON."""

    def __init__(self) -> None:
        json_converter = SharedAdapterJSONConverter()
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = dataclasses.replace(DataConverter.default, payload_converter_class=SharedAdapterPayloadConverter)
