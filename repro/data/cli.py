"""``python -m repro data check [--install]`` and ``python -m repro data build-corpus``.

``check`` reads the data: Fashion-MNIST decompressed, its IDX headers, counts and sha256 checked;
graphviz's ``dot`` found (notebook 06 draws its cells with it); the corpus loaded; CIFAR pickles,
ImageNet class folders (a sample decoded) and WMT'14 files validated where supplied. Every problem
names the file and the fix; any problem exits 1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from repro.data import cifar, corpus, fashion_mnist, imagenet, wmt
from repro.data.errors import DataError, DatasetNotFound


def verify_fashion() -> bool:
    """Fashion-MNIST found and every file sound; each problem printed."""
    root = fashion_mnist.find_root()
    problems = fashion_mnist.verify(root)
    for err in problems:
        print(f"error: {err}", file=sys.stderr)
    if not problems:
        print(f"Fashion-MNIST: {root} (train 60000, test 10000; sha256 of the original files)")
    return not problems


def can_apt() -> bool:
    """apt-get present and we are root: ``--install`` may install Debian packages."""
    return bool(shutil.which("apt-get")) and hasattr(os, "geteuid") and os.geteuid() == 0


def apt_install(package: str) -> None:
    """``apt-get update`` and ``apt-get install -y`` of one Debian package (its errors printed by apt)."""
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=False)


def check_fashion(install: bool) -> bool:
    """Find and read Fashion-MNIST; with ``install``, install Debian's package when apt and root allow it."""
    try:
        return verify_fashion()
    except DatasetNotFound as err:
        if not (install and can_apt()):
            print(err, file=sys.stderr)
            return False
    print("Fashion-MNIST missing: installing Debian's dataset-fashion-mnist ...")
    apt_install("dataset-fashion-mnist")
    try:
        return verify_fashion()
    except DatasetNotFound as err:
        print(err, file=sys.stderr)
        return False


def check_graphviz(install: bool) -> bool:
    """graphviz's ``dot`` (notebook 06 lays out its cells with it); with ``install``, Debian's graphviz
    installed when apt and root allow it."""
    if shutil.which("dot") is None and install and can_apt():
        print("graphviz missing: installing Debian's graphviz ...")
        apt_install("graphviz")
    if shutil.which("dot") is None:
        print("error: graphviz's `dot` not found (notebook 06 draws its cells with it): run "
              "`python -m repro data check --install` as root, or `apt-get install graphviz`", file=sys.stderr)
        return False
    print(f"graphviz: {shutil.which('dot')}")
    return True


def check_corpus() -> bool:
    """The committed translation corpus: every split of every pair."""
    try:
        counts = {pair: sum(len(corpus.load_pairs(pair, s)) for s in corpus.SPLITS) for pair in corpus.PAIRS}
    except DatasetNotFound as err:
        print(err, file=sys.stderr)
        return False
    print(f"translation corpus: {corpus.CORPUS_DIR} ({', '.join(f'{p} {n} pairs' for p, n in counts.items())})")
    return True


def verify_wmt(pair: str) -> str:
    """Every split of one pair present, the test split line-parallel; a summary line."""
    files = {split: wmt.find_files(pair, split) for split in corpus.SPLITS}
    try:
        n = len(corpus.read_parallel(*files["test"]))
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(files["test"][0], str(err), "give both sides of the split one sentence a line, "
                        "in UTF-8") from err
    return f"{files['test'][0].parent} (train, valid, test; test {n} pairs)"


def check_user_datasets() -> bool:
    """The user-supplied datasets of the ``paper`` profile: validated where supplied, else reported.

    A broken one is an error; so is an environment variable under which none of its datasets is found.
    """
    checks = {"CIFAR-10": (lambda: cifar.verify("cifar10"), cifar.ENV_VAR),
              "CIFAR-100": (lambda: cifar.verify("cifar100"), cifar.ENV_VAR),
              "ImageNet": (imagenet.verify, imagenet.ENV_VAR),
              **{f"WMT'14 {p}": (lambda p=p: verify_wmt(p), wmt.ENV_VAR) for p in corpus.PAIRS}}
    ok, found, missing = True, set(), {}
    for name, (verify, env_var) in checks.items():
        try:
            print(f"{name}: {verify()}")
            found.add(env_var)
        except DatasetNotFound as err:
            missing.setdefault(env_var, []).append((name, err))
        except DataError as err:
            print(f"error: {err}", file=sys.stderr)
            found.add(env_var)
            ok = False
    for env_var, entries in missing.items():
        for name, err in entries:
            if os.environ.get(env_var) and env_var not in found:
                print(f"error: {err}", file=sys.stderr)
                ok = False
            else:
                where = f"not in ${env_var}" if os.environ.get(env_var) else f"set ${env_var}"
                print(f"{name}: not supplied (only the paper profile needs it: {where})")
    return ok


def check(install: bool) -> int:
    """Every dataset read and validated; exit 1 when any is missing (embedded) or broken."""
    found = [check_fashion(install), check_graphviz(install), check_corpus(), check_user_datasets()]  # all report
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
    chk = sub.add_parser("check", help="read and validate every dataset found")
    chk.add_argument("--install", action="store_true",
                     help="install Debian's dataset-fashion-mnist and graphviz if missing (needs apt and root)")
    bld = sub.add_parser("build-corpus", help="build the En-De / En-Fr corpus from the gettext catalogs")
    bld.add_argument("--locale-dir", type=Path, default=corpus.LOCALE_DIR,
                     help=f"the system locale folder (default: {corpus.LOCALE_DIR})")
    bld.add_argument("--out", type=Path, default=corpus.CORPUS_DIR,
                     help=f"where the corpus is written (default: {corpus.CORPUS_DIR})")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.install)
    return build_corpus(args.locale_dir, args.out)
