"""Start the real servers (PostgreSQL, RabbitMQ, MinIO, Temporal) on loopback.

Used by the test harness (a fresh, isolated instance per run on free ports) and by
`ascension dev`. Each runner owns its process and data folder and stops cleanly.
"""

from ascension.servers.minio import MinioServer
from ascension.servers.postgres import PostgresServer
from ascension.servers.process import ServerStartError, free_port
from ascension.servers.rabbitmq import RabbitMQServer

__all__ = ["MinioServer", "PostgresServer", "RabbitMQServer", "ServerStartError", "free_port"]
