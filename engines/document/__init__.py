"""Result document: the analysis as one compact, versioned JSON document for the app.

`build_result_document` writes it (timelines as quantised, delta-coded integers), `encode_json`
and `gzip_size` serialise and measure it, and `decode_result_document` / `decode_timeline` are the
reference decoder. The format is published in ``schema/json/analysis_result.schema.json``.
"""

from engines.document.build import (
    FORMAT,
    VERSION,
    build_result_document,
    encode_json,
    ghost_first_frame,
    gzip_size,
)
from engines.document.decode import DecodedResult, VideoFacts, decode_result_document
from engines.document.errors import ResultDocumentError
from engines.document.holds_codec import decode_holds, encode_holds
from engines.document.timeline_codec import (
    MAX_XY_SCALE,
    TIME_UNIT_S,
    VISIBILITY_SCALE,
    Z_SCALE,
    channel_scales,
    decode_timeline,
    encode_timeline,
)

__all__ = [
    "FORMAT",
    "MAX_XY_SCALE",
    "TIME_UNIT_S",
    "VERSION",
    "VISIBILITY_SCALE",
    "Z_SCALE",
    "DecodedResult",
    "ResultDocumentError",
    "VideoFacts",
    "build_result_document",
    "channel_scales",
    "decode_holds",
    "decode_result_document",
    "decode_timeline",
    "encode_holds",
    "encode_json",
    "encode_timeline",
    "ghost_first_frame",
    "gzip_size",
]
