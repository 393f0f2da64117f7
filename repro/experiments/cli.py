"""``python -m repro train STUDY ...``: one study's training on its own, also under ``torchrun``.

    python -m repro train --list
    python -m repro train shiftaddnas-cv-supernet --profile paper --device cuda --out runs/
    torchrun --nproc_per_node 8 -m repro train shiftaddnas-cv-supernet --profile paper --out runs/
    python -m repro train shiftaddnas-cv-supernet --profile paper --out runs/ --resume

Exit status: 0 done (or stopped at ``--max-steps``), 2 a setting or input to fix, 3 out of memory
(the message names the study, the last checkpointed step, the peak memory and what to lower).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from repro.profiles import PROFILE_NAMES, ConfigError, get_profile


def _parse_override(text: str) -> tuple[str, object]:
    """``section.field=value`` with the value read as a Python literal when it is one."""
    import ast

    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set {text!r}: expected SECTION.FIELD=VALUE, e.g. supernet.batch_size=8")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _peak_memory() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB of GPU memory at peak"
    import resource

    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB of CPU memory at peak"


def _last_step(folder: Path) -> str:
    from repro.cache import Checkpoint

    state = Checkpoint(folder / "checkpoint.pt").load()
    step = state.get("step") if isinstance(state, dict) else None
    return f"last checkpoint at step {step}" if step is not None else "no checkpoint written yet"


def main(argv: list[str] | None = None) -> int:
    from repro.experiments import studies

    parser = argparse.ArgumentParser(prog="python -m repro train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", nargs="?", help="the study to run (see --list)")
    parser.add_argument("--list", action="store_true", help="print one study per line with a description")
    parser.add_argument("--profile", default="default", help=f"one of {', '.join(PROFILE_NAMES)} (default: default)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: CUDA when available (under torchrun: the local rank's GPU)")
    parser.add_argument("--max-steps", type=int, help="stop after N steps of the profile's schedule, with a checkpoint")
    parser.add_argument("--out", default="build/train", help="runs folder; the study writes OUT/STUDY/ (default build/train)")
    parser.add_argument("--resume", action="store_true", help="continue the checkpoint in OUT/STUDY/")
    parser.add_argument("--arch", type=Path, help="a retraining's architecture (JSON: a subnet config or a genotype)")
    parser.add_argument("--set", dest="overrides", action="append", type=_parse_override, default=[],
                        metavar="SECTION.FIELD=VALUE", help="override one profile field (repeatable)")
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, studies.STUDIES))
        for s in studies.STUDIES.values():
            print(f"{s.name:<{width}}  {s.description}")
        return 0
    if not args.study:
        parser.error("give a STUDY (see --list)")

    from repro.data.errors import DataError
    from repro.train import distributed

    folder = Path(args.out) / args.study
    try:
        profile = get_profile(args.profile, dict(args.overrides))
        options = studies.TrainOptions(out=Path(args.out), device=args.device, max_steps=args.max_steps,
                                       resume=args.resume, arch=args.arch)
        distributed.init_from_env()
        main_process = distributed.is_main()
        try:
            studies.run_study(args.study, profile, options)
        finally:
            distributed.cleanup()
    except (ConfigError, DataError, studies.StudyError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    except torch.OutOfMemoryError:
        print(f"error: {args.study} ran out of memory ({_last_step(folder)}; {_peak_memory()}). Lower the batch "
              "(--set SECTION.batch_size=N with more processes or --set SECTION.gpus=K to accumulate), or use "
              "--profile gpu; then rerun with --resume.", file=sys.stderr)
        return 3
    if main_process:
        stopped = " (stopped at --max-steps; rerun with --resume to continue)" if args.max_steps else ""
        print(f"{args.study}: done{stopped}; results in {folder}")
    return 0
