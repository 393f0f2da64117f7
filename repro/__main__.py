"""Command line: ``python -m repro {run-all,artifacts,report,data,cost,train} ...``."""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from repro.profiles import PROFILE_NAMES, ConfigError

# Subcommands owned by a subpackage: ``python -m repro data ...`` calls ``repro.data.cli.main(argv)``.
DELEGATED = {"data": "repro.data.cli", "cost": "repro.cost.cli", "train": "repro.experiments.cli"}


def _artifacts(args: argparse.Namespace) -> int:
    from repro import artifacts

    rows = artifacts.as_rows(args.out)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    import pandas as pd

    df = pd.DataFrame(rows)[["id", "mode", "notebook", "present", "title"]]
    df["present"] = df["present"].map({True: "yes", False: "no"})
    print(df.to_string(index=False))
    print(f"\n{int((df['present'] == 'yes').sum())}/{len(df)} artifacts present")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return importlib.import_module(DELEGATED[argv[0]]).main(argv[1:]) or 0

    parser = argparse.ArgumentParser(prog="python -m repro", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run-all,artifacts,report,data,cost,train}")
    run = sub.add_parser("run-all", help="execute the notebooks with papermill and write figures/")
    run.add_argument("--profile", default="default",
                     help=f"one of {', '.join(PROFILE_NAMES)} (default: default)")
    run.add_argument("--only", nargs="+", metavar="ID", help="run only the notebooks behind these artifact ids (or notebook names such as 00_data)")
    run.add_argument("--out", help="artifact folder (default: figures/)")
    art = sub.add_parser("artifacts", help="list every artifact and whether its outputs exist")
    art.add_argument("--json", action="store_true", help="print a JSON list of objects")
    art.add_argument("--out", help="artifact folder (default: figures/)")
    rep = sub.add_parser("report", help="regenerate README.md (the report) from the artifacts present")
    rep.add_argument("--out", help="artifact folder (default: figures/)")
    sub.add_parser("data", help="datasets: check, build-corpus (see `python -m repro data -h`)")
    sub.add_parser("cost", help="cost models (see `python -m repro cost -h`)")
    sub.add_parser("train", help="one study's training, also under torchrun (see `python -m repro train --list`)")
    args = parser.parse_args(argv)

    from repro.data.errors import DataError
    from repro.pipeline import OutDirError

    try:
        if args.command == "run-all":
            from repro.pipeline import run_all

            return run_all(args.profile, args.only, args.out)
        if args.command == "report":
            from repro.report import write_report

            print(write_report(args.out))
            return 0
        return _artifacts(args)
    except (ConfigError, KeyError, OutDirError, DataError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
