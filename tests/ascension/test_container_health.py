"""The containers' healthchecks against the real dev server: a worker of this host polling its
queue is healthy, a queue nobody here polls is not, and bad arguments exit 2."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from ascension.container_health import Unhealthy, check_api, check_poller, main
from core.settings import Settings

pytestmark = pytest.mark.integration


@workflow.defn(name="ContainerHealthProbe")
class _Idle:
    @workflow.run
    async def run(self) -> None:
        return None


def _settings(env: WorkflowEnvironment) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace,
    )


async def test_a_worker_polling_here_is_healthy(temporal_dev_env: WorkflowEnvironment) -> None:
    settings = _settings(temporal_dev_env)
    queue = f"health-{uuid.uuid4().hex[:8]}"
    kind = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    with pytest.raises(Unhealthy, match="polls"):
        await check_poller(settings, queue, kind)
    # Unsandboxed: the sandbox would re-import this test module; the workflow never runs anyway.
    runner = UnsandboxedWorkflowRunner()
    async with Worker(
        temporal_dev_env.client, task_queue=queue, workflows=[_Idle], workflow_runner=runner
    ):
        # The server lists a poller once its first long poll has arrived.
        for _ in range(100):
            try:
                answer = await check_poller(settings, queue, kind)
                break
            except Unhealthy:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the worker never showed among the queue's pollers")
    assert answer == f"polling {queue}"


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["database"]) == 2
    assert "usage" in capsys.readouterr().out


def test_an_unreachable_api_is_unhealthy() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(_env_file=None, api_port=port)  # type: ignore[call-arg]
    with pytest.raises(Unhealthy, match="readyz"):
        check_api(settings)
