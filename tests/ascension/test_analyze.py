"""`ascension analyze` end to end on the embedded stack: a clip built from a real wall photo and
a real person (opencv-doc) who stands, rises up the wall, stays and drops back."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from rich.console import Console

from ascension.analyze import AnalyzeRequest, run_analyze
from ascension.media import write_wall_climb_clip
from ascension.servers.process import free_port
from core.settings import Settings
from engines.document.decode import decode_result_document
from schema.analysis import Morphology

WALL = Path(__file__).parents[1] / "data/real_walls/images"
PHOTO = WALL / "3NBPMwfyWtQJiux6C_jpg.rf.05024ed3e1f4742dc2a2dc71c96fad8f.jpg"


@pytest.mark.slow
async def test_analyze_writes_the_result_pictures_and_the_climb(tmp_path: Path) -> None:
    clip = write_wall_climb_clip(tmp_path / "clip.mp4", PHOTO, seconds=9.0)
    settings = Settings(
        data_dir=tmp_path / "data",
        temporal_dev_port=free_port(),
        temporal_ui_port=free_port(),
    )
    out = tmp_path / "out"
    console = Console(record=True, width=120)
    request = AnalyzeRequest(clip, PHOTO, out, Morphology(height_cm=178.0))

    assert await run_analyze(settings, request, console) == 0

    document = json.loads(gzip.decompress((out / "result.json.gz").read_bytes()))
    decoded = decode_result_document(document)
    climb = decoded.extra["climb"]
    # Stands until 1.5 s, rises until 6 s, stays, drops back by 8.3 s.
    assert climb["start"] == "left_ground" and climb["end"] == "ground"
    assert 1.5 < climb["start_s"] < 4.5 and 6.0 < climb["end_s"] < 8.5
    assert decoded.hold_map.holds  # the learned detector found the real wall's holds

    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 360
    # The climber's skeleton is drawn in green on the sheet.
    green = (sheet[..., 1] > 180) & (sheet[..., 0] < 120) & (sheet[..., 2] < 120)
    assert green.mean() > 0.002
    capture = cv2.VideoCapture(str(out / "overlay.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 270
    capture.release()
    text = console.export_text()
    assert "climb" in text and "left ground" in text and "finish: let go" in text
    assert np.isfinite(decoded.skeleton.landmarks).any()
