"""``python -m repro data check [--install]`` and ``python -m repro data build-corpus``."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from repro.data.errors import DatasetNotFound
from repro.data import fashion_mnist


def check(install: bool) -> int:
    """Find Fashion-MNIST; with ``--install``, install Debian's package when apt and root allow it."""
    try:
        print(f"Fashion-MNIST: {fashion_mnist.find_root()}")
        return 0
    except DatasetNotFound as err:
        can_apt = shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0
        if not (install and can_apt):
            print(err, file=sys.stderr)
            return 1
    print("Fashion-MNIST missing: installing Debian's dataset-fashion-mnist ...")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"], check=False)
    try:
        print(f"Fashion-MNIST: {fashion_mnist.find_root()}")
        return 0
    except DatasetNotFound as err:
        print(err, file=sys.stderr)
        return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro data")
    sub = parser.add_subparsers(dest="command", required=True)
    chk = sub.add_parser("check", help="find the embedded datasets")
    chk.add_argument("--install", action="store_true",
                     help="install Debian's dataset-fashion-mnist if missing (needs apt and root)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.install)
    return 2
