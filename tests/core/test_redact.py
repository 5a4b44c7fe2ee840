"""The log filter: tokens, password hashes, presigned signatures and Authorization headers never
reach a handler, whichever way they are logged (issue 14, finding 1's log half)."""

from __future__ import annotations

import logging

import pytest

from core.redact import RedactSecrets, install_log_redaction, redact

pytestmark = pytest.mark.unit

JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI2ODI5ZGJlZSIsInNpZCI6IjM4NGQifQ."
    "3GLST8WjIMrx0otLOSdo9I1EvknozLKsSjRqnB_rqas"
)
HASH = "$argon2id$v=19$m=65536,t=3,p=4$nk1Q/npehM1zhNJ9SS92eA$YZB1YQbT529mLegJzUuSqrI5BmByQ2Nq1aJ"
REFRESH = "Zq3v9Jt0xkPq7wYb2nD5mLr8sTfUaHcE1gViKoNjX4y"
SIGNATURE = "5d6f3a8e0c1b2a4d9e8f7c6b5a4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GET /api/v1/ws?token={JWT}&last_event_id=3", JWT),
        (f"{{'authorization': 'Bearer {JWT}'}}", JWT),
        ("Authorization: Bearer opaque-token-0123456789", "opaque-token-0123456789"),
        ("[(b'host', b'api'), (b'authorization', b'Basic dXNlcjpwYXNz')]", "dXNlcjpwYXNz"),
        (f"[parameters: ('a@example.com', 'freemium', '{HASH}', 'user')]", HASH),
        (f'{{"refresh_token": "{REFRESH}", "token_type": "bearer"}}', REFRESH),
        (f"refresh_token={REFRESH}", REFRESH),
        (
            "https://minio:9000/b/uploads/u/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=ascension%2F20260101&X-Amz-Signature={SIGNATURE}",
            SIGNATURE,
        ),
        (
            "AWS4-HMAC-SHA256 Credential=ascension/20260101/us-east-1/s3/aws4_request, "
            f"SignedHeaders=host, Signature={SIGNATURE}",
            SIGNATURE,
        ),
        ("amqp://guest:hunter2-secret@127.0.0.1:5672/%2F", "hunter2-secret"),
        ('{"email": "a@example.com", "password": "correct horse"}', "correct"),
    ],
)
def test_redact_removes_the_secret_and_keeps_the_rest(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redact_leaves_ordinary_text_alone() -> None:
    for text in (
        "analysis 3f2a completed in 1.20 s",
        '{"token_type": "bearer", "expires_in": 86400}',
        "POST /api/v1/auth/login 401",
        "tokens: 5, passwords hashed: 2",
    ):
        assert redact(text) == text


def _record(
    name: str, msg: str, args: object, exc: BaseException | None = None
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_the_filter_redacts_arguments_and_tracebacks() -> None:
    try:
        raise RuntimeError(f"INSERT failed [parameters: ('{HASH}',)]")
    except RuntimeError as exc:
        record = _record(
            "ascension.api", "login of %s failed: %s", ("a@b.c", f"token={REFRESH}"), exc
        )
    assert RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert HASH not in text and REFRESH not in text
    assert "login of a@b.c failed" in text and "RuntimeError" in text


def test_uvicorn_access_records_keep_their_argument_tuple() -> None:
    from uvicorn.logging import AccessFormatter

    args = ("127.0.0.1:5000", "GET", f"/api/v1/ws?token={JWT}", "1.1", 101)
    record = _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args)
    RedactSecrets().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert JWT not in line and "/api/v1/ws?token=[redacted]" in line


def test_installed_redaction_reaches_every_handler(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    logging.getLogger("some.library").error("sent %s", f"Authorization: Bearer {JWT}")
    assert JWT not in caplog.text
    assert "sent Authorization: Bearer [redacted]" in caplog.text
