"""``python -m repro data check [--install]`` and ``python -m repro data build-corpus``."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from repro.data import cifar, corpus, fashion_mnist, imagenet, wmt
from repro.data.errors import DatasetNotFound


def check_fashion(install: bool) -> bool:
    """Find Fashion-MNIST; with ``install``, install Debian's package when apt and root allow it."""
    try:
        print(f"Fashion-MNIST: {fashion_mnist.find_root()}")
        return True
    except DatasetNotFound as err:
        can_apt = shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0
        if not (install and can_apt):
            print(err, file=sys.stderr)
            return False
    print("Fashion-MNIST missing: installing Debian's dataset-fashion-mnist ...")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"], check=False)
    try:
        print(f"Fashion-MNIST: {fashion_mnist.find_root()}")
        return True
    except DatasetNotFound as err:
        print(err, file=sys.stderr)
        return False


def check_corpus() -> bool:
    """The committed translation corpus: every split of every pair."""
    try:
        counts = {pair: sum(len(corpus.load_pairs(pair, s)) for s in corpus.SPLITS) for pair in corpus.PAIRS}
    except DatasetNotFound as err:
        print(err, file=sys.stderr)
        return False
    print(f"translation corpus: {corpus.CORPUS_DIR} ({', '.join(f'{p} {n} pairs' for p, n in counts.items())})")
    return True


def report_user_datasets() -> None:
    """Where the user-supplied datasets of the ``paper`` profile were found, if they were."""
    finders = {"CIFAR-10": (lambda: cifar.find_root("cifar10"), cifar.ENV_VAR),
               "CIFAR-100": (lambda: cifar.find_root("cifar100"), cifar.ENV_VAR),
               "ImageNet": (lambda: imagenet.find_root("val"), imagenet.ENV_VAR),
               **{f"WMT'14 {p}": (lambda p=p: wmt.find_files(p, "test")[0].parent, wmt.ENV_VAR)
                  for p in corpus.PAIRS}}
    for name, (find, env_var) in finders.items():
        try:
            print(f"{name}: {find()}")
        except DatasetNotFound:
            print(f"{name}: not supplied (only the paper profile needs it: set ${env_var})")


def check(install: bool) -> int:
    """The embedded data must be there (exit 1 if not); the user-supplied datasets are only reported."""
    found = [check_fashion(install), check_corpus()]  # both run, so both report
    report_user_datasets()
    return 0 if all(found) else 1


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
    chk = sub.add_parser("check", help="find the embedded datasets; report the user-supplied ones")
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
