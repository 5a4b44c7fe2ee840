"""Structured logs: one JSON object per line, carrying the analysis and workflow ids it belongs to.

Activity records run in the SDK's real activity context (`ActivityEnvironment` sets what
`activity.info()` answers in a worker); request records in a `log_context`, as the API's
middleware opens one per request (tested through the app in tests/api/test_request_log.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from core.logs import bind_log_fields, configure_logging, log_context, make_handler
from core.settings import Settings
from schema import names

pytestmark = pytest.mark.unit


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logs.{uuid.uuid4().hex[:8]}")
    logger.addHandler(make_handler("json", stream))
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # `activity.logger` logs through this one: the test reads its lines too.
    sdk = logging.getLogger("temporalio.activity")
    sdk_handler = make_handler("json", stream)
    sdk.addHandler(sdk_handler)
    yield logger, stream
    logger.handlers.clear()
    sdk.removeHandler(sdk_handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_activity_line_names_its_analysis_and_workflow(captured) -> None:
    logger, stream = captured
    analysis_id = str(uuid.uuid4())
    workflow_id = names.analysis_workflow_id(analysis_id)

    @activity.defn(name="extract_skeleton")
    async def extract() -> None:
        logger.info("skeleton of %d frames", 300)
        activity.logger.warning("slow chunk")  # the SDK's adapter: its details are used too

    env = ActivityEnvironment()
    env.info = replace(env.info, workflow_id=workflow_id, activity_type="extract_skeleton")
    asyncio.run(env.run(extract))
    first, second = lines(stream)
    assert first["message"] == "skeleton of 300 frames"
    assert first["level"] == "info" and first["logger"] == logger.name
    assert first["analysis_id"] == analysis_id and first["workflow_id"] == workflow_id
    assert first["activity_type"] == "extract_skeleton" and first["attempt"] == "1"
    assert second["analysis_id"] == analysis_id and second["level"] == "warning"
    assert second["run_id"] == env.info.workflow_run_id


def test_a_workflow_that_is_no_analysis_has_no_analysis_id(captured) -> None:
    logger, stream = captured

    @activity.defn(name="generate_training_program")
    async def train() -> None:
        logger.info("program written")

    env = ActivityEnvironment()
    env.info = replace(env.info, workflow_id=names.training_workflow_id("job-1"))
    asyncio.run(env.run(train))
    (line,) = lines(stream)
    assert line["workflow_id"] == names.training_workflow_id("job-1")
    assert "analysis_id" not in line


def test_request_fields_apply_inside_the_block_only(captured) -> None:
    logger, stream = captured
    analysis_id = str(uuid.uuid4())
    with log_context(request_id="r-1", method="GET"):
        logger.info("before")
        bind_log_fields(analysis_id=analysis_id, workflow_id=None)  # None: not bound
        logger.info("after")
    logger.info("outside")
    before, after, outside = lines(stream)
    assert before["request_id"] == "r-1" and "analysis_id" not in before
    assert after["analysis_id"] == analysis_id and "workflow_id" not in after
    assert "request_id" not in outside and "analysis_id" not in outside


def test_exceptions_are_one_field_of_one_line(captured) -> None:
    logger, stream = captured
    try:
        raise ValueError("bad frame")
    except ValueError:
        logger.exception("step failed")
    text = stream.getvalue()
    assert text.count("\n") == 1  # the traceback's newlines stay inside the JSON string
    (line,) = lines(stream)
    assert "ValueError: bad frame" in line["exception"]


def test_the_setting_selects_the_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASCENSION_LOG_FORMAT", "json")
    assert Settings(_env_file=None).log_format == "json"  # type: ignore[call-arg]
    monkeypatch.setenv("ASCENSION_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_configure_logging_replaces_only_its_own_handler() -> None:
    root = logging.getLogger()
    # An earlier test that ran the CLI in-process may have left its (ascension) handler.
    before = [h for h in root.handlers if not getattr(h, "ascension_handler", False)]
    level = root.level
    try:
        configure_logging("json")
        configure_logging("text")
        ours = [h for h in root.handlers if getattr(h, "ascension_handler", False)]
        assert len(ours) == 1
        assert isinstance(ours[0].formatter, logging.Formatter)
        assert not type(ours[0].formatter).__name__.startswith("Json")
        assert [h for h in root.handlers if h not in ours] == before  # pytest's stay
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "ascension_handler", False):
                root.removeHandler(handler)
        root.setLevel(level)
