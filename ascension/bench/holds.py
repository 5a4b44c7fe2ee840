"""`ascension bench holds`: the hold detector on real wall photos with hand-drawn boxes.

Both detectors run in the same run, through the production code path (`decode_photo` on the
file's bytes, then `detect_holds`): the learned detector (shipped weights) and the classical
segmenter it replaced, as the baseline. Photos: with ``--data DIR`` (the Roboflow YOLO export),
the evaluation part of its fixed split (`engines.holds.learned.data`: valid photos the model
never saw); without it, the dozen of those photos committed under ``tests/data/real_walls``.

Figures: precision, recall and F1 at IoU >= 0.5, at IoU >= 0.3 and with the hold's centre
inside the true box; volumes separately; the per-photo median F1; seconds per photo; the
compact JSON size of the hold maps; photos refused (all of them, and those told "no holds found").
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ascension.bench.report import BenchReport, percentile

#: The dozen evaluation photos committed with the tests (downscaled; see their README).
COMMITTED_PHOTOS = Path(__file__).resolve().parents[2] / "tests" / "data" / "real_walls"
GOAL_F1_IOU50 = 0.80
GOAL_F1_CENTRE = 0.88
GOAL_VOLUME_F1 = 0.50
GOAL_SECONDS = 1.0
GOAL_MAP_KB_200 = 60.0


def _photos(data: Path | None) -> tuple[list[Any], str]:
    from engines.holds.learned.data import read_split, split_dataset

    if data is None:
        return read_split(COMMITTED_PHOTOS.parent, COMMITTED_PHOTOS.name), "committed dozen"
    return split_dataset(data).evaluation, f"evaluation split of {data}"


def _run(detector: Any, photos: list[Any]) -> dict[str, Any]:
    from engines.errors import EngineInputError
    from engines.holds import NoHoldsFoundError, decode_photo, detect_holds
    from engines.holds.boxes_eval import BoxScores

    scores = BoxScores()
    seconds: list[float] = []
    refused: list[str] = []
    no_holds: list[str] = []
    map_bytes: list[int] = []
    counts: list[int] = []
    for photo in photos:
        data = photo.path.read_bytes()
        started = time.perf_counter()
        try:
            holds = detect_holds(decode_photo(data), model=detector).hold_map
        except EngineInputError as error:
            refused.append(photo.path.name)
            if isinstance(error, NoHoldsFoundError):
                no_holds.append(photo.path.name)
            holds = None
        seconds.append(time.perf_counter() - started)
        found = [h for h in holds.holds if h.bbox] if holds else []
        boxes = np.array([h.bbox for h in found], np.float32).reshape(-1, 4)
        centres = np.array([(h.x, h.y) for h in found], np.float32).reshape(-1, 2)
        volume = np.array([h.type == "volume" for h in found], bool)
        scores.add(photo.boxes, photo.classes == 1, boxes, volume, centres)
        if holds is not None:
            map_bytes.append(len(json.dumps(asdict(holds), separators=(",", ":"))))
            counts.append(len(holds.holds))
    per_hold = sum(map_bytes) / max(sum(counts), 1)
    return {
        "scores": scores.figures(),
        "seconds_median": statistics.median(seconds),
        "seconds_p95": percentile(seconds, 95),
        "refused": refused,
        "refused_no_holds": no_holds,
        "map_kb_max": max(map_bytes, default=0) / 1000,
        "map_kb_per_200_holds": per_hold * 200 / 1000,
        "holds_max": max(counts, default=0),
    }


def bench_holds(data: Path | None, settings: Any = None) -> BenchReport:
    """Learned vs classical on the photos `_photos` picks; see the module docstring.

    With ``settings``, also the workflow-sandbox cost of a worst-case 200-hold map against the
    old format (`ascension.bench.hold_map_sandbox`, on a fresh Temporal dev server).
    """
    import asyncio

    import torch

    from engines.holds import load_hold_model

    torch.set_num_threads(max(torch.get_num_threads(), 1))
    photos, where = _photos(data)
    model = load_hold_model(device="cuda" if torch.cuda.is_available() else "cpu")
    learned = _run(model, photos)
    classical = _run(None, photos)
    report = BenchReport(
        name="holds",
        title=f"Hold detection on {len(photos)} real photos ({where})",
        columns=["figure", "learned", "classical (baseline)", "goal"],
    )

    def row(label: str, view: str, key: str, goal: str = "") -> None:
        report.rows.append(
            [
                label,
                f"{learned['scores'][view][key]:.3f}",
                f"{classical['scores'][view][key]:.3f}",
                goal,
            ]
        )

    for view, name in (("holds", "holds"), ("volumes", "volumes"), ("all", "all objects")):
        for key, label in (("iou50", "IoU>=0.5"), ("iou30", "IoU>=0.3"), ("centre", "centre")):
            goal = ""
            if view == "holds" and key == "iou50":
                goal = f">= {GOAL_F1_IOU50}"
            elif view == "holds" and key == "centre":
                goal = f">= {GOAL_F1_CENTRE}"
            elif view == "volumes" and key == "iou50":
                goal = f">= {GOAL_VOLUME_F1}"
            row(f"{name} F1 {label}", view, f"{key}_f1", goal)
            if key == "iou50":
                row(f"{name} precision {label}", view, f"{key}_precision")
                row(f"{name} recall {label}", view, f"{key}_recall")
        row(f"{name} per-photo median F1 IoU>=0.5", view, "photo_median_f1")
    report.rows += [
        [
            "seconds per photo (median / p95)",
            f"{learned['seconds_median']:.2f} / {learned['seconds_p95']:.2f}",
            f"{classical['seconds_median']:.2f} / {classical['seconds_p95']:.2f}",
            f"<= {GOAL_SECONDS} median",
        ],
        [
            "photos refused (of them: no holds found)",
            f"{len(learned['refused'])} ({len(learned['refused_no_holds'])})",
            f"{len(classical['refused'])} ({len(classical['refused_no_holds'])})",
            "0 (all show walls)",
        ],
        [
            "hold map KB, largest / per 200 holds",
            f"{learned['map_kb_max']:.1f} / {learned['map_kb_per_200_holds']:.1f}",
            f"{classical['map_kb_max']:.1f} / {classical['map_kb_per_200_holds']:.1f}",
            f"<= {GOAL_MAP_KB_200:.0f} per 200",
        ],
    ]
    sandbox = None
    if settings is not None:
        from ascension.bench.hold_map_sandbox import bench_hold_map_sandbox

        sandbox = asyncio.run(bench_hold_map_sandbox(settings))
        report.rows.append(
            [
                "200-hold map in the workflow sandbox: KB / decode ms",
                f"{sandbox['json_bytes'] / 1000:.1f} / {sandbox['sandbox_decode_ms']:.0f}",
                f"old format {sandbox['baseline_json_bytes'] / 1000:.0f} / "
                f"{sandbox['baseline_sandbox_decode_ms']:.0f}",
                "no deadlock trip (2 s)",
            ]
        )
    holds_l, holds_c = learned["scores"]["holds"], classical["scores"]["holds"]
    report.figures = {
        "photos": len(photos),
        "source": where,
        "learned": learned,
        "sandbox": sandbox,
    }
    report.baselines = {"classical": classical}
    report.ratios = {
        "holds_f1_iou50_vs_classical": holds_l["iou50_f1"] / max(holds_c["iou50_f1"], 1e-9),
        "seconds_vs_classical": learned["seconds_median"] / max(classical["seconds_median"], 1e-9),
    }
    report.goals = {
        "holds_f1_iou50": GOAL_F1_IOU50,
        "holds_f1_iou50_met": holds_l["iou50_f1"] >= GOAL_F1_IOU50,
        "holds_f1_centre": GOAL_F1_CENTRE,
        "holds_f1_centre_met": holds_l["centre_f1"] >= GOAL_F1_CENTRE,
        "volumes_f1_iou50": GOAL_VOLUME_F1,
        "volumes_f1_iou50_met": learned["scores"]["volumes"]["iou50_f1"] >= GOAL_VOLUME_F1,
        "seconds_median": GOAL_SECONDS,
        "seconds_median_met": learned["seconds_median"] <= GOAL_SECONDS,
        "map_kb_per_200_holds": GOAL_MAP_KB_200,
        "map_kb_per_200_holds_met": learned["map_kb_per_200_holds"] <= GOAL_MAP_KB_200,
    }
    report.notes += [
        "holds: true holds vs detections typed anything but volume; volumes: true volumes vs "
        "detections typed volume; all: every true box vs every detection",
        "centre: the hold's centre (x, y in the map) inside a true box, one-to-one",
        "baseline: the classical OpenCV segmenter (ASCENSION_HOLD_DETECTOR=classical), same run",
    ]
    return report
