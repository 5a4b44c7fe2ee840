"""Signed object URLs for the folder store: what MinIO's presigned URLs give, served by the API.

The embedded default keeps its objects in a folder, so nothing but the API can take a phone's
upload. Rather than start a MinIO process in `ascension dev` (a fourth server, a Go build, ports
and credentials for a quickstart whose promise is "nothing to install by hand"), the folder store
signs URLs that the API's ``/api/v1/objects`` routes honour with the same guarantees as the SigV4
URLs of `core.sigv4`:

- **one object**: method, bucket and key are signed; the URL opens nothing else;
- **expiry**: the deadline is signed and checked before anything is read or written;
- **content type and exact length** (uploads): signed, and the request's headers must equal them;
  the body is then counted as it streams to disk and refused the moment it passes the length.

The signature is HMAC-SHA256 over those fields, with a key only the store's owner holds; it is
checked (in constant time) before a byte is written. URLs are path-absolute (``/api/v1/...``):
the API joins them to the address the client used to reach it, so they work behind any name.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlencode

#: Where the API serves signed object URLs; the folder store builds its URLs under it.
OBJECTS_PATH: Final = "/api/v1/objects"

_EXPIRES: Final = "X-Expires"
_TYPE: Final = "X-Content-Type"
_LENGTH: Final = "X-Content-Length"
_SIGNATURE: Final = "X-Signature"


class InvalidSignedUrl(ValueError):
    """The URL was not signed by us, was altered, or names another object or method."""


class ExpiredSignedUrl(InvalidSignedUrl):
    """The URL was valid until its deadline, which has passed."""


@dataclass(frozen=True)
class ObjectGrant:
    """What one signed URL allows: one method on one object until a deadline.

    ``content_type`` and ``content_length`` bind an upload to exactly the file the API approved;
    both are None for a download.
    """

    method: str
    bucket: str
    key: str
    #: Unix time (seconds) after which the URL is refused.
    expires_at: int
    content_type: str | None = None
    content_length: int | None = None

    def _message(self) -> bytes:
        fields = (
            self.method.upper(),
            self.bucket,
            self.key,
            str(self.expires_at),
            self.content_type or "",
            "" if self.content_length is None else str(self.content_length),
        )
        # A separator no field may contain, so no two grants sign the same message.
        return "\n".join(fields).encode()

    def signature(self, secret: bytes) -> str:
        return hmac.new(secret, self._message(), hashlib.sha256).hexdigest()

    def url(self, secret: bytes) -> str:
        """The path-absolute URL carrying this grant and its signature."""
        query: dict[str, str] = {_EXPIRES: str(self.expires_at)}
        if self.content_type is not None:
            query[_TYPE] = self.content_type
        if self.content_length is not None:
            query[_LENGTH] = str(self.content_length)
        query[_SIGNATURE] = self.signature(secret)
        path = f"{OBJECTS_PATH}/{quote(self.bucket, safe='')}/{quote(self.key, safe='/')}"
        return f"{path}?{urlencode(query)}"


def verify_grant(
    secret: bytes,
    *,
    method: str,
    bucket: str,
    key: str,
    query: dict[str, str],
    now: datetime,
) -> ObjectGrant:
    """The grant a request's URL carries, once its signature and deadline are checked.

    Raises:
        InvalidSignedUrl: a field is missing or malformed, or the signature does not match.
        ExpiredSignedUrl: the signature matches but the deadline has passed.
    """
    if "\n" in bucket or "\n" in key:
        raise InvalidSignedUrl("the object name is not valid")
    try:
        expires_at = int(query[_EXPIRES])
        length = query.get(_LENGTH)
        grant = ObjectGrant(
            method=method.upper(),
            bucket=bucket,
            key=key,
            expires_at=expires_at,
            content_type=query.get(_TYPE),
            content_length=None if length is None else int(length),
        )
        signature = query[_SIGNATURE]
    except (KeyError, ValueError):
        raise InvalidSignedUrl("the URL is not a signed object URL") from None
    if not hmac.compare_digest(grant.signature(secret), signature):
        raise InvalidSignedUrl("the URL's signature does not match")
    if now.timestamp() > grant.expires_at:
        raise ExpiredSignedUrl("the URL has expired; ask for a new one")
    return grant
