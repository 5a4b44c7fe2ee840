"""Fixtures of the ingress tests; module-scoped, so each test module gets its own vhost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ascension.servers import RabbitMQServer
from core.settings import Settings
from core.temporal_client import connect_temporal
from tests.ingress.helpers import fresh_vhost
from worker_cpu.worker import CpuResources, open_cpu_resources


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def broker_url(rabbitmq: RabbitMQServer | None, amqp_url: str) -> str:
    return fresh_vhost(rabbitmq, amqp_url)


@pytest.fixture(scope="module")
async def resources(stack_settings: Settings) -> AsyncIterator[CpuResources]:
    async with open_cpu_resources(stack_settings, create_tables=True) as res:
        await res.store.ensure_bucket(stack_settings.bucket)
        yield res


@pytest.fixture(scope="module")
async def client(temporal_dev_env: WorkflowEnvironment, stack_settings, resources) -> Client:
    target = temporal_dev_env.client.service_client.config.target_host
    return await connect_temporal(stack_settings, resources.store, target=target)


@pytest.fixture
def ingress_settings(stack_settings: Settings, task_queue: str) -> Settings:
    """The ingress's settings: this test's task queues (its workers serve them)."""
    return stack_settings.model_copy(
        update={"cpu_task_queue": f"{task_queue}-cpu", "gpu_task_queue": f"{task_queue}-gpu"}
    )
