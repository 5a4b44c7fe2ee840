"""Temporal's remote codec protocol for the Web UI and the ``temporal`` CLI: support staff read
every payload of a run (the hold map kept in the payload bucket, encrypted payloads) as the
workflow code saw it.

``POST /codec/decode`` and ``/codec/encode`` take and return ``{"payloads": [...]}`` (payloads
in protobuf JSON: base64 ``metadata`` values and ``data``), with the namespace in
``X-Namespace``. They sit outside ``/api/v1`` because the UI appends ``/decode`` and
``/encode`` to the endpoint it is given.

Who may call: support accounts only, checked like every other support route (the token, its
sign-in and the role read from the database on each request). The token comes either as
``Authorization: Bearer`` (the CLI's ``--codec-auth``) or as the ``ascension_codec`` cookie
that ``POST /codec/session`` sets. The UI's ``passAccessToken`` is not used: it forwards the
token of the UI's own OIDC sign-in, which this API neither issues nor can verify, and the UI
sends it only to https endpoints. With ``includeCredentials`` the UI's requests carry the
browser's cookies for this API instead: HttpOnly, ``SameSite=Strict`` and limited to
``/codec``, so page scripts cannot read it and no other site's pages make the browser send it.
Serve the UI and the API under one site (``ui.example.com`` and ``api.example.com``, or one
host on two ports), or a ``Strict`` cookie is never sent. CORS for ``ASCENSION_TEMPORAL_UI_ORIGIN``
alone is `api.codec_cors.CodecCORS`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.deps import Principal, Resources, Session, authenticate
from api.errors import ApiError, responses, unauthorized
from core.codec import PayloadCodecService, PayloadResolveError
from core.payload_crypto import PayloadKeyError
from core.temporal_client import temporal_data_converter
from schema.models import Role

router = APIRouter(prefix="/codec", tags=["codec"])

#: The cookie `POST /codec/session` sets; read on /codec paths only.
SESSION_COOKIE = "ascension_codec"
_bearer = HTTPBearer(auto_error=False, description="A support account's access token.")


class CodecPayload(BaseModel):
    """One payload in protobuf JSON; other fields (``externalPayloads``) are accepted."""

    model_config = ConfigDict(extra="allow")
    metadata: dict[str, str] = Field(default_factory=dict, description="base64 values")
    data: str = Field(default="", description="base64")


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload]


async def codec_staff(
    request: Request,
    resources: Resources,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """A support account, by bearer token or by the codec session cookie."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token = credentials.credentials
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        raise unauthorized("sign in with a support account: POST /codec/session")
    principal = await authenticate(resources.tokens, session, token)
    if principal.role is not Role.SUPPORT:
        raise ApiError(403, "forbidden", "reading payloads needs a support account")
    return principal


CodecStaff = Annotated[Principal, Depends(codec_staff)]


def codec_service(request: Request, resources: Resources) -> PayloadCodecService:
    """One service per app, from the converter every client and worker uses."""
    service: PayloadCodecService | None = getattr(request.app.state, "codec", None)
    if service is None:
        settings = resources.settings
        converter = temporal_data_converter(settings, resources.store)
        service = PayloadCodecService(converter, settings.payload_bucket)
        request.app.state.codec = service
    return service


Codec = Annotated[PayloadCodecService, Depends(codec_service)]


def _check_namespace(resources: Resources, namespace: str | None) -> None:
    # One key ring and one payload bucket serve the configured namespace only.
    expected = resources.settings.temporal_namespace
    if namespace is not None and namespace != expected:
        raise ApiError(
            400, "unknown_namespace", f"this codec serves namespace {expected!r}, not {namespace!r}"
        )


def _parse(body: CodecPayloads) -> list[Payload]:
    parsed = []
    for index, item in enumerate(body.payloads):
        payload = Payload()
        try:
            json_format.ParseDict(item.model_dump(), payload, ignore_unknown_fields=True)
        except json_format.ParseError as err:
            raise ApiError(
                422, "invalid_payload", f"payload {index} is not a Temporal payload: {err}"
            ) from None
        parsed.append(payload)
    return parsed


def _answer(payloads: list[Payload]) -> dict[str, Any]:
    return {"payloads": [json_format.MessageToDict(payload) for payload in payloads]}


@router.post("/decode", responses=responses(400, 401, 403, 422))
async def decode(
    body: CodecPayloads,
    staff: CodecStaff,
    resources: Resources,
    codec: Codec,
    x_namespace: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Payloads as the workflow saw them: stored ones fetched, encrypted ones decrypted."""
    _check_namespace(resources, x_namespace)
    try:
        return _answer(await codec.decode(_parse(body)))
    except PayloadKeyError as err:
        raise ApiError(400, "payload_key_unknown", str(err)) from None
    except PayloadResolveError as err:
        raise ApiError(400, "payload_unresolvable", str(err)) from None


@router.post("/encode", responses=responses(400, 401, 403, 422))
async def encode(
    body: CodecPayloads,
    staff: CodecStaff,
    resources: Resources,
    codec: Codec,
    x_namespace: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Payloads typed into the UI, encrypted as workers expect them (unchanged when off)."""
    _check_namespace(resources, x_namespace)
    return _answer(await codec.encode(_parse(body)))


@router.post("/session", status_code=204, responses=responses(401, 403))
async def open_session(
    request: Request, response: Response, staff: CodecStaff, resources: Resources
) -> None:
    """Keep this support sign-in in a cookie the Web UI's codec requests carry."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    if not token:
        raise unauthorized("send the support access token as Authorization: Bearer")
    expires_at = resources.tokens.decode_access(token).expires_at
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(0, expires_at - int(time.time())),
        path=router.prefix,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@router.delete("/session", status_code=204)
async def close_session(response: Response) -> None:
    """Forget the codec cookie (the sign-in itself ends with /api/v1/auth/logout)."""
    response.delete_cookie(SESSION_COOKIE, path=router.prefix, httponly=True, samesite="strict")


@router.get("/session", response_class=HTMLResponse, include_in_schema=False)
async def sign_in_page() -> HTMLResponse:
    """A support member's sign-in for the Web UI's codec requests, in their own browser."""
    return HTMLResponse(_SIGN_IN_PAGE)


_SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ascension codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 3rem auto">
<h1>Temporal Web UI: sign in to read payloads</h1>
<form id="f">
<p><label>Support email <input id="email" type="email" required></label></p>
<p><label>Password <input id="password" type="password" required></label></p>
<p><button>Sign in</button></p>
</form>
<p id="out" role="status"></p>
<script>
document.getElementById("f").addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("out");
  const login = await fetch("../api/v1/auth/login", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({email: document.getElementById("email").value,
                          password: document.getElementById("password").value}),
  });
  const body = await login.json();
  if (!login.ok) { out.textContent = body.error.message; return; }
  const session = await fetch("session", {
    method: "POST", headers: {"Authorization": "Bearer " + body.access_token},
  });
  out.textContent = session.ok
    ? "Signed in. In the Web UI's codec settings, turn on cross-origin credentials."
    : (await session.json()).error.message;
});
</script>
</body></html>
"""
