"""The Temporal Web UI, pointed at the API's codec server, shows a support member the real hold
map of an encrypted analysis whose map is kept in the payload bucket, in headless Chromium.

The dev server's own Web UI is started with ``--ui-codec-endpoint`` (the API's ``/codec``). The
dev server has no flag for the UI's ``includeCredentials``, so the browser turns it on the way a
person does in the UI's codec settings (the same local-storage entries the dialog writes); a
deployed UI sets ``TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`` instead. The support member signs in
on the API's ``/codec/session`` page, whose cookie the UI's codec requests then carry.
"""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from ascension.servers.process import free_port
from ascension.servers.temporal import start_dev_server
from core.settings import Settings
from schema.models import Role
from tests.api.conftest import ClimberFactory, served
from tests.utils.browser import headless_chromium
from tests.utils.codec import completed_dense_analysis, encrypted_settings, running_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: The map's first hold: the lines the input card shows under "holds" (keys sorted).
FIRST_HOLD = "h1"


def _codec_settings(endpoint: str) -> str:
    """What the UI's codec settings dialog stores when a person enters the endpoint and ticks
    "include cross-origin credentials" (its persisted stores' keys, JSON values). The UI
    takes the override only with an endpoint of its own, so the same endpoint is entered."""
    return f"""
localStorage.setItem("overrideRemoteCodecConfiguration", "true");
localStorage.setItem("endpoint", {json.dumps(json.dumps(endpoint))});
localStorage.setItem("includeCredentials", "true");
"""


async def test_the_web_ui_shows_the_decoded_hold_map(
    settings: Settings,
    api_settings: Settings,
    api_app: FastAPI,  # the session's app has migrated the accounts' database
    climber: ClimberFactory,
    tmp_path,
) -> None:
    temporal_port, ui_port = free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    deployed = encrypted_settings(api_settings, ui_origin=ui).model_copy(
        update={"temporal_address": f"127.0.0.1:{temporal_port}", "temporal_namespace": "default"}
    )
    staff = await climber(role=Role.SUPPORT)
    async with running_app(deployed) as app, served(app, deployed) as api:
        env: WorkflowEnvironment = await start_dev_server(
            settings,
            port=temporal_port,
            ui=True,
            ui_port=ui_port,
            namespace="default",
            ui_codec_endpoint=f"{api}/codec",
        )
        try:
            handle, _ = await completed_dense_analysis(
                deployed, f"127.0.0.1:{temporal_port}", "web-ui-codec"
            )
            run_id = (await handle.describe()).run_id
            async with headless_chromium() as browser:
                context = await browser.new_context(viewport={"width": 1600, "height": 2000})
                page = await context.new_page()
                await page.goto(f"{api}/codec/session")
                await page.fill("#email", staff.email)
                await page.fill("#password", staff.password)
                await page.click("button")
                await page.wait_for_selector("text=Signed in", timeout=30_000)

                await context.add_init_script(_codec_settings(f"{api}/codec"))
                await page.goto(f"{ui}/namespaces/default/workflows/{handle.id}/{run_id}/history")
                # The input card shows the workflow input once the codec has answered.
                # (A locator, not wait_for_function: the UI's CSP forbids eval.)
                hold_map = page.get_by_text('"route_hold_map"').first
                await hold_map.wait_for(timeout=90_000)
                # The input card scrolls; bring the map's first holds into its view.
                await hold_map.scroll_into_view_if_needed()
                await page.get_by_text(f'"{FIRST_HOLD}"').first.wait_for(timeout=30_000)
                text = await page.inner_text("body")
                shot = tmp_path / "web-ui-decoded-hold-map.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"Web UI screenshot: {shot}")
        finally:
            await env.shutdown()
    assert '"holds"' in text and f'"{FIRST_HOLD}"' in text, text[:3000]
    assert "claimData" not in text
    assert "binary/encrypted" not in text
