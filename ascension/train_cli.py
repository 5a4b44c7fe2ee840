"""`ascension train holds`: reproduce the shipped hold-detector weights.

Prints a progress bar per stage and one line of figures per epoch (loss, and F1 at IoU >= 0.5
on the calibration photos every few epochs), then writes the TorchScript weights and a JSON
training log beside them.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console()


def add_parser(sub: Any) -> None:
    train = sub.add_parser("train", help="train a model from data (see `train holds --help`)")
    models = train.add_subparsers(dest="model", required=True)
    holds = models.add_parser(
        "holds", help="train the hold/volume detector from scratch on a YOLO-format data set"
    )
    holds.add_argument("--data", type=Path, required=True, help="folder with train/ and valid/")
    holds.add_argument("--out", type=Path, required=True, help="TorchScript weights to write")
    holds.add_argument("--epochs", type=int, default=None, help="default: the shipped recipe")
    holds.add_argument("--seed", type=int, default=None, help="default: the shipped recipe")
    holds.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    holds.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="weights of the first cycles of this same recipe (an earlier run's --out, or a "
        "release's weights): train only the cycles after them; same result, a fraction of the time",
    )
    holds.add_argument(
        "--resume-cycles",
        type=int,
        default=None,
        help="how many cycles --resume holds (default: read from its metadata)",
    )
    holds.add_argument(
        "--calibrate-only",
        action="store_true",
        help="keep the weights already in --out and only choose again how they run (inference "
        "sizes, mirrored pass, thresholds) on the calibration photos; minutes, not hours",
    )


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from engines.holds.learned.train import TrainConfig, export_torchscript, train_hold_detector

    config = TrainConfig()
    if args.epochs is not None:
        config.epochs = args.epochs
    if args.seed is not None:
        config.seed = args.seed
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    if not (args.data / "train").is_dir() or not (args.data / "valid").is_dir():
        console.print(f"[red]{args.data} has no train/ and valid/ folders (YOLO export)[/]")
        return 2
    if args.calibrate_only:
        return _recalibrate(args.data, args.out, device)
    resume_cycles = 1
    if args.resume is not None:
        if not args.resume.is_file():
            console.print(f"[red]{args.resume} does not exist[/]")
            return 2
        resume_cycles = args.resume_cycles or _cycles_in(args.resume, config)
    console.print(
        f"training the hold detector on {args.data} ({device}), {config.epochs} epochs "
        + "".join(f"+ {r.epochs} after a warm restart " for r in config.restarts)
        + (f"(the first {resume_cycles} cycle(s) from {args.resume})" if args.resume else "")
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    tasks: dict[str, Any] = {}
    with Progress(*columns, console=console) as bar:

        def progress(stage: str, done: int, total: int, info: dict[str, Any]) -> None:
            if stage == "epoch":
                line = f"epoch {done:3d}/{total}  loss {info['loss']:.3f}  " + "  ".join(
                    f"{k} {v:.3f}" for k, v in info["parts"].items()
                )
                line += f"  {info['seconds']:.0f}s"
                if info.get("calibration"):
                    line += "  calibration F1@0.5 " + "  ".join(
                        f"{k} {v:.3f}" for k, v in info["calibration"].items()
                    )
                bar.console.print(line)
                return
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total, info="")
            text = f"loss {info['loss']:.3f}" if "loss" in info else ""
            bar.update(tasks[stage], completed=done, info=text)

        result = train_hold_detector(
            args.data,
            config,
            device=device,
            progress=progress,
            resume=args.resume,
            resume_cycles=resume_cycles,
        )
    history = [asdict(r) for r in result.history]
    if args.resume is not None:
        history = _earlier_history(args.resume, config.epochs_after(resume_cycles)) + history
    meta = export_torchscript(result, config, args.out)
    log = {
        "config": asdict(config),
        "meta": meta,
        "resumed_from": str(args.resume) if args.resume else None,
        "resumed_cycles": resume_cycles if args.resume else 0,
        "history": history,
        "excluded": result.split.excluded,
        "evaluation_photos": [p.path.name for p in result.split.evaluation],
        "calibration_photos": [p.path.name for p in result.split.calibration],
        "calibration": asdict(result.calibration),
    }
    log_path = args.out.with_suffix(".train.json")
    log_path.write_text(json.dumps(log, indent=1))
    size_mb = args.out.stat().st_size / 1e6
    console.print(
        f"wrote {args.out} ({size_mb:.1f} MB) and {log_path}; inference at "
        f"{result.calibration.long_sides} px, flip {result.calibration.flip}, thresholds "
        f"{result.calibration.thresholds}; {result.seconds / 60:.1f} min"
    )
    return 0


def _recalibrate(data: Path, weights: Path, device: str) -> int:
    """Choose again how trained weights run, as the end of training does, and rewrite the
    archive's metadata and the training log's calibration (the weights stay as they are)."""
    import torch

    from engines.holds.learned.data import split_dataset
    from engines.holds.learned.train import METADATA_FILE, calibrate

    if not weights.is_file():
        console.print(f"[red]{weights} does not exist: train first[/]")
        return 2
    extra = {METADATA_FILE: ""}
    module = torch.jit.load(str(weights), map_location=device, _extra_files=extra)
    meta = json.loads(extra[METADATA_FILE])
    split = split_dataset(data)
    console.print(f"calibrating {weights} on {len(split.calibration)} calibration photos")
    calibration = calibrate(module, split.calibration, device)
    meta.update(
        long_side=calibration.long_sides[0],
        long_sides=list(calibration.long_sides),
        flip=calibration.flip,
        thresholds=calibration.thresholds,
    )
    torch.jit.save(module.cpu(), str(weights), _extra_files={METADATA_FILE: json.dumps(meta)})
    log_path = weights.with_suffix(".train.json")
    if log_path.is_file():
        log = json.loads(log_path.read_text())
        log["meta"] = meta
        log["calibration"] = asdict(calibration)
        log_path.write_text(json.dumps(log, indent=1))
    console.print(
        f"wrote {weights}: inference at {calibration.long_sides} px, flip {calibration.flip}, "
        f"thresholds {calibration.thresholds}; calibration holds F1@0.5 "
        f"{calibration.figures['holds']['iou50_f1']:.3f}"
    )
    return 0


def _cycles_in(weights: Path, config: Any) -> int:
    """How many of ``config``'s cycles ``weights`` holds, from its metadata ("cycles", or the
    epochs it was trained for)."""
    import torch

    from engines.holds.learned.train import METADATA_FILE

    extra = {METADATA_FILE: ""}
    try:
        torch.jit.load(str(weights), map_location="cpu", _extra_files=extra)
        meta = json.loads(extra[METADATA_FILE] or "{}")
    except (RuntimeError, ValueError):
        meta = {}
    if "cycles" in meta:
        return int(meta["cycles"])
    for cycles in range(1, config.cycles + 1):
        if config.epochs_after(cycles) == meta.get("epochs"):
            return cycles
    raise SystemExit(f"{weights} does not say how many cycles it holds: pass --resume-cycles")


def _earlier_history(weights: Path, epochs: int) -> list[dict[str, Any]]:
    """The per-epoch log of the run that produced ``weights`` (its ``.train.json``), up to
    ``epochs``, so a resumed run's log still tells the whole story."""
    log_path = weights.with_suffix(".train.json")
    if not log_path.is_file():
        return []
    earlier = json.loads(log_path.read_text()).get("history", [])
    return [entry for entry in earlier if entry.get("epoch", 0) <= epochs]
