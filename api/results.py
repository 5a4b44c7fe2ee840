"""Result documents as the API serves them: stored gzip bytes, an ETag, a small in-memory cache.

A result document never changes once written, so the cache needs no invalidation beyond deletes
and the ETag is a digest of the stored bytes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class StoredDocument:
    gzip_bytes: bytes
    etag: str


def make_document(gzip_bytes: bytes) -> StoredDocument:
    return StoredDocument(gzip_bytes, f'"{hashlib.sha256(gzip_bytes).hexdigest()[:32]}"')


class DocumentCache:
    """Least-recently-used documents up to ``max_bytes`` in total."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, StoredDocument] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> StoredDocument | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, document: StoredDocument) -> None:
        size = len(document.gzip_bytes)
        if size > self.max_bytes:
            return
        self.discard(key)
        self._items[key] = document
        self._size += size
        while self._size > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self._size -= len(evicted.gzip_bytes)

    def discard(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._size -= len(old.gzip_bytes)
