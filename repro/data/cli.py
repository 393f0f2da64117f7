"""``python -m repro data check [--install]`` and ``python -m repro data build-corpus``."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from repro.data import corpus, fashion_mnist
from repro.data.errors import DatasetNotFound


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


def build_corpus(locale_dir: Path, out_dir: Path) -> int:
    """Build the gettext translation corpus and print its counts."""
    manifest = corpus.build_corpus(locale_dir, out_dir)
    for pair, counts in manifest["pairs"].items():
        print(f"{pair}: {counts['pairs']} pairs from {counts['catalogs']} catalogs "
              f"(train {counts['train']}, valid {counts['valid']}, test {counts['test']})")
    print(f"wrote {out_dir}/ (manifest.json lists the catalogs, packages and sha256 of every file)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro data")
    sub = parser.add_subparsers(dest="command", required=True)
    chk = sub.add_parser("check", help="find the embedded datasets")
    chk.add_argument("--install", action="store_true",
                     help="install Debian's dataset-fashion-mnist if missing (needs apt and root)")
    bld = sub.add_parser("build-corpus", help="build the En-De / En-Fr corpus from the gettext catalogs")
    bld.add_argument("--locale-dir", type=Path, default=corpus.LOCALE_DIR,
                     help=f"the system locale folder (default: {corpus.LOCALE_DIR})")
    bld.add_argument("--out", type=Path, default=corpus.CORPUS_DIR,
                     help=f"where the corpus is written (default: {corpus.CORPUS_DIR})")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.install)
    return build_corpus(args.locale_dir, args.out)
