"""`ascension dev`: the embedded stack in one foreground process.

Temporal dev server with its Web UI (state in a SQLite file under data_dir, so analyses survive a
restart), and the API on the embedded SQLite database and local-disk object store. Ctrl-C stops
everything; the Temporal server process is stopped by the SDK's environment on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from ascension.servers.temporal import start_dev_server
from core.settings import Settings
from core.signals import stop_on_signals
from worker_cpu.main import run_cpu_worker
from worker_gpu.main import run_gpu_worker


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the dev stack decides when everything stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_dev_stack(settings: Settings, *, api: bool = True) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stop = stop_on_signals()

    async with contextlib.AsyncExitStack() as stack:
        api_settings = settings
        if settings.temporal_address is None:
            # The Web UI reads payloads (stored or encrypted) through this API's codec, which
            # must allow the UI's origin (unless one is configured already).
            codec = f"http://127.0.0.1:{settings.api_port}/codec" if api else None
            if api and settings.temporal_ui_origin is None:
                origin = f"http://127.0.0.1:{settings.temporal_ui_port}"
                api_settings = settings.model_copy(update={"temporal_ui_origin": origin})
            env = await start_dev_server(
                settings,
                port=settings.temporal_dev_port,
                ui=True,
                ui_port=settings.temporal_ui_port,
                db_file=settings.data_dir / "temporal.db",
                ui_codec_endpoint=codec,
            )
            stack.push_async_callback(env.shutdown)
            print(f"Temporal dev server  127.0.0.1:{settings.temporal_dev_port}", flush=True)
            print(f"Temporal Web UI      http://127.0.0.1:{settings.temporal_ui_port}", flush=True)
        else:
            print(f"Temporal             {settings.temporal_address} (from settings)", flush=True)

        tasks: list[asyncio.Task[None]] = []
        if api:
            from api.app import create_app, uvicorn_options

            server = _EmbeddedServer(
                uvicorn.Config(
                    create_app(api_settings),
                    host=settings.api_host,
                    port=settings.api_port,
                    **uvicorn_options(settings),
                )
            )
            tasks.append(asyncio.create_task(server.serve()))
            # The API and the CPU worker each migrate the embedded SQLite file as they start:
            # Alembic's context is process-wide, so two at once in this process break each
            # other (and on a fresh file both would create the tables). The API goes first.
            while not server.started and not tasks[-1].done() and not stop.is_set():
                await asyncio.sleep(0.05)
            if tasks[-1].done():
                tasks[-1].result()  # the API could not start: say why, and stop here
            print(
                f"API                  http://{settings.api_host}:{settings.api_port}/docs",
                flush=True,
            )
        print(f"Data                 {settings.data_dir}", flush=True)
        tasks.append(asyncio.create_task(run_cpu_worker(settings, stop=stop)))
        tasks.append(asyncio.create_task(run_gpu_worker(settings, stop=stop)))
        print(
            f"Workers              {settings.cpu_task_queue} (workflows, records, events), "
            f"{settings.gpu_task_queue} (vision)",
            flush=True,
        )
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
        if api:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
