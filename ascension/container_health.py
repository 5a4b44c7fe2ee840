"""Container healthchecks: `python -m ascension.container_health api|worker-cpu|worker-gpu|ingress`.

docker-compose.yml runs this inside each application container. A living process says little,
so each check does what `ascension stack status` checks for the native stack
(`ascension/stack/health.py`), from inside the container: the API's ``/readyz`` reaches
Temporal, the database, the bucket and the broker; a worker of *this* container is among its
task queue's pollers (a worker's identity is ``PID@hostname``, and a container's hostname is its
own); the ingress consumes the legacy job queues. Exit 0 healthy, 1 not, with one line saying why
(Docker keeps it in ``docker inspect``'s health log).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import urllib.request
from datetime import timedelta

import pika
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from core.settings import Settings, get_settings
from core.temporal_client import temporal_target, temporal_tls
from ingress.messages import MAPPED_QUEUES

TIMEOUT_S = 5.0


class Unhealthy(RuntimeError):
    """The component is up but does not do its job yet; the message says what is missing."""


def check_api(settings: Settings) -> str:
    url = f"http://127.0.0.1:{settings.api_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            status = response.status
    except OSError as error:  # HTTPError (503 not ready) included
        raise Unhealthy(f"{url}: {error}") from None
    if status != 200:
        raise Unhealthy(f"{url} answered {status}")
    return f"{url} ready"


async def check_poller(settings: Settings, queue: str, kind: TaskQueueType.ValueType) -> str:
    """A worker started in this container polls ``queue``."""
    # No converter or store: describing a queue carries no payload. TLS and the API key as
    # every process connects (core/temporal_client.py).
    key = settings.temporal_api_key
    client = await Client.connect(
        temporal_target(settings),
        namespace=settings.temporal_namespace,
        tls=temporal_tls(settings),
        api_key=key.get_secret_value() if key else None,
    )
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        ),
        timeout=timedelta(seconds=TIMEOUT_S),
    )
    suffix = f"@{socket.gethostname()}"
    if not any(poller.identity.endswith(suffix) for poller in described.pollers):
        raise Unhealthy(f"no worker of {socket.gethostname()} polls {queue} yet")
    return f"polling {queue}"


def legacy_queue_consumers(amqp_url: str, timeout_s: float = TIMEOUT_S) -> int:
    """Consumers of the legacy job queues (0 while none is declared yet); shared with
    `ascension stack status`."""
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = timeout_s
    params.connection_attempts = 1
    connection = pika.BlockingConnection(params)
    try:
        channel = connection.channel()
        total = 0
        for queue in MAPPED_QUEUES:
            try:
                total += channel.queue_declare(queue, passive=True).method.consumer_count
            except pika.exceptions.ChannelClosedByBroker:  # not declared yet
                channel = connection.channel()
        return total
    finally:
        connection.close()


def check_ingress(settings: Settings) -> str:
    if not settings.amqp_url:
        raise Unhealthy("ASCENSION_AMQP_URL is not set: the ingress has no queues to consume")
    consumers = legacy_queue_consumers(settings.amqp_url)
    if consumers == 0:
        raise Unhealthy("nobody consumes the legacy job queues yet")
    return f"{consumers} consumers on {len(MAPPED_QUEUES)} legacy job queues"


def check(component: str, settings: Settings) -> str:
    """The named component's health in one line; raises `Unhealthy` (or the client's error)."""
    if component == "api":
        return check_api(settings)
    if component == "ingress":
        return check_ingress(settings)
    if component == "worker-cpu":
        queue, kind = settings.cpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    elif component == "worker-gpu":
        queue, kind = settings.gpu_task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
    else:
        raise ValueError(f"unknown component {component!r}")
    return asyncio.run(asyncio.wait_for(check_poller(settings, queue, kind), TIMEOUT_S * 2))


COMPONENTS = ("api", "worker-cpu", "worker-gpu", "ingress")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMPONENTS:
        print(f"usage: python -m ascension.container_health {{{','.join(COMPONENTS)}}}")
        return 2
    try:
        print(check(argv[0], get_settings()))
    except Exception as error:  # any failure is the answer, in one line
        print(f"unhealthy: {type(error).__name__}: {error}".rstrip(": "))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
