"""schema.activities: every entry names code registered under its name, with its types."""

from __future__ import annotations

import importlib
import typing

import pytest
from temporalio import activity

from schema.activities import CPU_ACTIVITIES, GPU_ACTIVITIES, ActivitySpec

pytestmark = pytest.mark.unit

SPECS = [*GPU_ACTIVITIES, *CPU_ACTIVITIES]


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_the_implementation_is_registered_under_the_name_with_the_types(
    spec: ActivitySpec[object, object],
) -> None:
    module, _, path = spec.implementation.partition(":")
    code: object = importlib.import_module(module)
    for part in path.split("."):
        code = getattr(code, part)
    definition = activity._Definition.from_callable(code)  # type: ignore[arg-type]
    assert definition is not None and definition.name == spec.name
    hints = typing.get_type_hints(code)
    arguments = [value for key, value in hints.items() if key != "return"]
    assert arguments == [spec.input]
    assert hints["return"] is spec.output


def test_names_are_unique() -> None:
    assert len({spec.name for spec in SPECS}) == len(SPECS)
