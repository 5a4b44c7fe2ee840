"""Health of each stack component, as the component's own clients would find it.

A living pid says little: each probe does what a user of the component does. PostgreSQL accepts
the application role on its database; RabbitMQ accepts the application user on its vhost;
MinIO answers its liveness endpoint; Temporal's frontend answers in the namespace and knows the
four search attributes, and its Web UI serves its page; each Temporal worker is polling its task
queue (its identity, ``PID@host``, is among the queue's pollers); the ingress consumes the
legacy job queues; and the API's ``/readyz`` reaches Temporal, the database, the bucket and the
broker.
"""

from __future__ import annotations

import asyncio
import urllib.request
from dataclasses import dataclass

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from ascension.container_health import legacy_queue_consumers
from ascension.stack.config import StackPlan
from ascension.stack.state import Component, is_running
from ingress.messages import MAPPED_QUEUES
from schema.names import SEARCH_ATTRIBUTE_TYPES

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:
        return bool(response.status == 200)


async def _postgres(plan: StackPlan) -> str:
    db = plan.postgres
    connection = await asyncpg.connect(
        host="127.0.0.1",
        port=db.port,
        user=db.role,
        password=db.password,
        database=db.database,
        timeout=PROBE_TIMEOUT_S,
    )
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()
    return f"role {db.role} on database {db.database}"


def _amqp_consumers(plan: StackPlan) -> int:
    """Consumers of the legacy job queues (0 when none is declared yet)."""
    assert plan.settings.amqp_url
    return legacy_queue_consumers(plan.settings.amqp_url, PROBE_TIMEOUT_S)


async def _rabbitmq(plan: StackPlan) -> str:
    await asyncio.to_thread(_amqp_consumers, plan)
    return f"user {plan.rabbitmq.user} on vhost {plan.rabbitmq.vhost}"


async def _minio(plan: StackPlan) -> str:
    url = f"http://127.0.0.1:{plan.minio_port}/minio/health/live"
    if not await asyncio.to_thread(_http_ok, url):
        raise RuntimeError("not live")
    return "live"


async def _client(plan: StackPlan) -> Client:
    assert plan.settings.temporal_address
    return await Client.connect(
        plan.settings.temporal_address, namespace=plan.settings.temporal_namespace
    )


async def _temporal(plan: StackPlan) -> str:
    client = await _client(plan)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = sorted(set(SEARCH_ATTRIBUTE_TYPES) - set(listed.custom_attributes))
    if missing:
        raise RuntimeError(f"search attributes missing: {', '.join(missing)}")
    ui = f"http://127.0.0.1:{plan.temporal_ui_port}/"
    if not await asyncio.to_thread(_http_ok, ui):
        raise RuntimeError(f"the Web UI at {ui} serves no page")
    return (
        f"namespace {client.namespace}, {len(SEARCH_ATTRIBUTE_TYPES)} search attributes, "
        f"Web UI {ui}"
    )


async def _poller(plan: StackPlan, component: Component, queue: str, kind: int) -> str:
    client = await _client(plan)
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=kind,  # type: ignore[arg-type]
        )
    )
    if not any(p.identity.startswith(f"{component.pid}@") for p in described.pollers):
        raise RuntimeError(f"not polling {queue} yet")
    return f"polling {queue}"


async def _ingress(plan: StackPlan) -> str:
    consumers = await asyncio.to_thread(_amqp_consumers, plan)
    if consumers == 0:
        raise RuntimeError("not consuming the legacy job queues yet")
    return f"consuming {len(MAPPED_QUEUES)} legacy job queues"


async def _api(plan: StackPlan) -> str:
    url = f"{plan.api_url}/readyz"
    if not await asyncio.to_thread(_http_ok, url):
        raise RuntimeError("not ready")
    return url


async def probe(plan: StackPlan, component: Component) -> Health:
    """The component's health: its process is the one we started, and it does its job."""
    if not is_running(component):
        return Health(False, "not running")
    settings = plan.settings
    checks = {
        "postgresql": lambda: _postgres(plan),
        "rabbitmq": lambda: _rabbitmq(plan),
        "minio": lambda: _minio(plan),
        "temporal": lambda: _temporal(plan),
        "worker-cpu": lambda: _poller(
            plan, component, settings.cpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
        ),
        "worker-gpu": lambda: _poller(
            plan, component, settings.gpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
        ),
        "ingress": lambda: _ingress(plan),
        "api": lambda: _api(plan),
    }
    try:
        detail = await asyncio.wait_for(checks[component.name](), PROBE_TIMEOUT_S * 2)
    except Exception as error:  # any failure is the answer, in one line
        return Health(False, f"{type(error).__name__}: {error}".strip().rstrip(":"))
    return Health(True, detail)
