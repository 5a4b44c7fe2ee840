"""`ascension bench api`: latency and throughput of the mobile API on the real stack.

Throwaway PostgreSQL, MinIO, Temporal dev server (and RabbitMQ, for the WebSocket figure) start
in a temporary folder; the API (`api.app:create_app`) is served by uvicorn in a subprocess, so
the load generator never shares its event loop or its core. Climbers are registered through the
API; each gets a video really uploaded through its presigned URL, a route with a validated hold
map (starts need no GPU; no worker runs, workflows are only scheduled) and one completed analysis
with a stored ~50 KB gzip result document.

Per concurrency level (closed loop: each client sends its next request when the last answered):
``POST request-upload``, ``POST start`` and ``GET`` of the completed analysis, each against the
app's bare ``/healthz`` measured in the same run at the same concurrency, the floor any request
through this server pays. Then the WebSocket latency from an `analysis.completed` event's
publication to its arrival at a connected client (`ascension.bench.ws_latency`).

Client and server CPU use are reported with every figure: at ~100 % of a core the load
generator (or the single server process) was the bottleneck and the latency is mostly queueing.
"""

from ascension.bench.api.run import bench_api

__all__ = ["bench_api"]
