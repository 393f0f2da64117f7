"""The gettext translation corpus: English-German and English-French pairs from Debian's catalogs.

Every ``/usr/share/locale/{de,fr}/LC_MESSAGES/*.mo`` catalog pairs an English ``msgid`` with a
human translation. :func:`build_corpus` (``python -m repro data build-corpus``) turns them into a
plain-text parallel corpus (DESIGN.md, section 2):

1. read every message of every catalog (the header skipped; of a plural entry the singular pair;
   a ``msgctxt`` context dropped);
2. clean both sides (:func:`clean_pair`): Pango/HTML markup tags removed, the common entities
   unescaped, a keyboard accelerator (``_File``, ``&File``) removed, whitespace collapsed;
3. drop untranslated pairs (empty or identical to the English) and pairs with fewer than
   :data:`MIN_WORDS` words on either side (a word holds a letter once placeholders such as ``%s``,
   ``%(name)s``, ``{0}`` or ``$VAR`` are removed, so format-only strings go too) or more than
   :data:`MAX_WORDS` words on either side (long ``--help`` blocks are not sentences);
4. deduplicate on the English side: the translation most catalogs agree on, ties broken by the
   lexicographically smallest, so the result does not depend on the order catalogs are read;
5. split by a hash of the English side (:func:`split_of`): :data:`VALID_FRACTION` to ``valid``,
   :data:`TEST_FRACTION` to ``test``, the rest to ``train``; a sentence keeps its split when
   catalogs are added, an English sentence lands in the same split for both language pairs, and
   near-duplicates (differing in case, punctuation or placeholders) land in the same split;
6. write ``<out>/en-de.{train,valid,test}.{en,de}`` (one sentence per line, ordered by the hash)
   and the same for ``en-fr``, plus ``manifest.json``: the source catalogs with their Debian
   package and version, every source package as ``name=version`` (what to install for a rebuild),
   the extra packages installed to enlarge the corpus, counts, and the sha256 of every file.
   No timestamps: building twice gives identical files.

:func:`load_pairs` reads the committed corpus back; :func:`statistics` summarises it.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import struct
import subprocess
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from tqdm.auto import tqdm

from repro.data.errors import DatasetNotFound
from repro.paths import DATA_DIR

CORPUS_DIR = DATA_DIR / "corpus"
LOCALE_DIR = Path("/usr/share/locale")
PAIRS = ("en-de", "en-fr")
SPLITS = ("train", "valid", "test")
MIN_WORDS = 4
MAX_WORDS = 40
VALID_FRACTION = 0.05
TEST_FRACTION = 0.05
# Debian packages to install (`apt-get install --no-install-recommends`) on top of the base system to
# enlarge the corpus before building; listed here and in the manifest so that a rebuild can install
# the same set. None were needed: the base system's catalogs already give ~25k En-De / ~32k En-Fr pairs.
EXTRA_PACKAGES: tuple[str, ...] = ()

_MO_MAGIC = 0x950412DE
# Pango / HTML markup only: ``<file>``, ``<commit>`` and the like are metavariables of usage texts.
_TAG = re.compile(r"</?(a|b|big|br|code|em|i|kbd|li|p|s|small|span|strong|sub|sup|tt|u|ul)(\s[^<>]*)?/?>",
                  re.IGNORECASE)
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);")
_ACCEL_ANYWHERE = re.compile(r"[_&](?=[^\W_])(?!(amp|lt|gt|quot|apos);)")
_ACCEL = re.compile(r"(?<![^\s(\[])" + _ACCEL_ANYWHERE.pattern)
_PLACEHOLDER = re.compile(
    r"%(\d+\$)?[-+ 0#']*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGaAcspm]"  # printf
    r"|%<\w+>|%\(\w+\)[-+ 0#]*\d*(\.\d+)?[a-zA-Z]|%%"                                    # C99, Python
    r"|\{[\w.:!\[\]]*\}|\$\{?\w+\}?")                                                      # {0}, $VAR
_WORD = re.compile(r"[^\W\d_]")
_NON_WORD = re.compile(r"[^\w\s]")


def read_mo(path: Path) -> list[tuple[str, str]]:
    """``(msgid, msgstr)`` of a GNU ``.mo`` catalog, the header skipped.

    Format (GNU gettext manual, "The Format of GNU MO Files"): magic, revision, N, offsets of the
    original and translation tables; each table entry is (length, offset). A plural entry holds
    ``singular\\0plural`` and its forms ``form0\\0form1...``: the singular pair is kept. A context
    is ``msgctxt\\x04msgid``: the context is dropped. Strings are decoded with the header's charset.
    """
    raw = path.read_bytes()
    if len(raw) < 20:
        raise ValueError(f"{path} is too short to be a .mo catalog")
    for order in "<>":
        if struct.unpack(order + "I", raw[:4])[0] == _MO_MAGIC:
            break
    else:
        raise ValueError(f"{path} is not a .mo catalog (magic {raw[:4].hex()})")
    _, n, orig_at, trans_at = struct.unpack(order + "4I", raw[4:20])

    def entry(table: int, i: int) -> bytes:
        length, offset = struct.unpack(order + "2I", raw[table + 8 * i: table + 8 * i + 8])
        return raw[offset: offset + length]

    entries = [(entry(orig_at, i), entry(trans_at, i)) for i in range(n)]
    header = dict(entries).get(b"", b"").decode("ascii", "replace")
    charset = re.search(r"charset=\s*([\w.-]+)", header)
    encoding = charset.group(1) if charset and charset.group(1).upper() != "CHARSET" else "utf-8"
    pairs = []
    for msgid, msgstr in entries:
        if not msgid:
            continue
        msgid = msgid.split(b"\x04")[-1].split(b"\x00")[0]
        msgstr = msgstr.split(b"\x00")[0]
        pairs.append((msgid.decode(encoding, "replace"), msgstr.decode(encoding, "replace")))
    return pairs


def strip_accelerator(text: str, anywhere: bool = False) -> tuple[str, bool]:
    """``text`` without its keyboard accelerator, and whether it had one.

    An accelerator is a ``_`` or ``&`` before a letter at the start of a word (``_File``,
    ``&Open``), or anywhere in a word with ``anywhere`` (``Ab_melden``); it is removed only when
    the message holds no other ``_`` (or ``&``), so ``_NET_WM_NAME`` and ``a && b`` survive.
    """
    marker = (_ACCEL_ANYWHERE if anywhere else _ACCEL).search(text)
    if marker and _ENTITY.sub("", text).count(marker.group(0)) == 1:
        return text[: marker.start()] + text[marker.end():], True
    return text, False


def plain(text: str) -> str:
    """Markup tags removed (see :data:`_TAG`), the common entities unescaped, whitespace collapsed."""
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), _TAG.sub("", text))
    return " ".join(text.split())


def clean_pair(msgid: str, msgstr: str) -> tuple[str, str]:
    """Both sides of a message as plain sentences, their accelerators removed.

    When the English has an accelerator the translation must have one too (``msgfmt
    --check-accelerators``), and there it may sit inside a word: ``_Logout`` / ``Ab_melden``.
    """
    en, had = strip_accelerator(_TAG.sub("", msgid))
    xx, _ = strip_accelerator(_TAG.sub("", msgstr), anywhere=had)
    return plain(en), plain(xx)


def n_words(text: str) -> int:
    """Whitespace tokens that hold a letter once placeholders are removed."""
    return sum(1 for tok in _PLACEHOLDER.sub(" ", text).split() if _WORD.search(tok))


def keep(en: str, xx: str) -> bool:
    """A cleaned pair is kept: translated, not identical, :data:`MIN_WORDS`..:data:`MAX_WORDS` words a side."""
    return bool(xx) and en != xx and all(MIN_WORDS <= n_words(s) <= MAX_WORDS for s in (en, xx))


def sentence_hash(en: str) -> str:
    return hashlib.sha256(en.encode("utf-8")).hexdigest()


def split_key(en: str) -> str:
    """What near-duplicates share: lower case, without placeholders and punctuation."""
    return " ".join(_NON_WORD.sub(" ", _PLACEHOLDER.sub(" ", en.lower())).split())


def split_of(en: str) -> str:
    """The fixed split of an English sentence, from the first 8 hex digits of the sha256 of its
    :func:`split_key`, so that ``Cannot open %s`` and ``cannot open "%s".`` never straddle train and test."""
    u = int(sentence_hash(split_key(en))[:8], 16) / 16**8
    return "valid" if u < VALID_FRACTION else "test" if u < VALID_FRACTION + TEST_FRACTION else "train"


def check_pair(pair: str) -> str:
    if pair not in PAIRS:
        raise ValueError(f"unknown language pair {pair!r}; valid pairs: {', '.join(PAIRS)}")
    return pair


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


@dataclass(frozen=True)
class Catalog:
    """One source catalog and what it gave."""
    path: str
    language: str
    package: str | None
    version: str | None
    messages: int
    kept: int


def debian_packages(paths: list[Path]) -> dict[str, tuple[str | None, str | None]]:
    """``path -> (package, version)`` via ``dpkg -S`` and ``dpkg-query``; ``(None, None)`` without dpkg."""
    found: dict[str, tuple[str | None, str | None]] = {str(p): (None, None) for p in paths}
    if not paths or shutil.which("dpkg") is None:
        return found
    out = subprocess.run(["dpkg", "-S", *map(str, paths)], capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        if path in found:
            owner[path] = pkgs.split(",")[0].strip()
    if owner:
        q = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Version}\n", *sorted(set(owner.values()))],
                           capture_output=True, text=True).stdout
        versions = dict(line.split("\t", 1) for line in q.splitlines() if "\t" in line)
        for path, pkg in owner.items():
            found[path] = (pkg, versions.get(pkg.split(":")[0]))
    return found


def collect(locale_dir: Path, language: str) -> tuple[dict[str, str], list[Catalog]]:
    """English -> translation for one language (cleaned, filtered, deduplicated), and its catalogs."""
    files = sorted((locale_dir / language / "LC_MESSAGES").glob("*.mo"))
    owners = debian_packages(files)
    votes: dict[str, Counter] = defaultdict(Counter)
    catalogs = []
    for path in tqdm(files, desc=f"catalogs [{language}]", unit="catalog"):
        try:
            messages = read_mo(path)
        except ValueError as err:
            tqdm.write(f"skipped {path}: {err}")
            continue
        kept = 0
        for msgid, msgstr in messages:
            en, xx = clean_pair(msgid, msgstr)
            if keep(en, xx):
                votes[en][xx] += 1
                kept += 1
        catalogs.append(Catalog(str(path), language, *owners[str(path)], len(messages), kept))
    best = {en: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for en, c in votes.items()}
    return best, catalogs


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_corpus(locale_dir: Path = LOCALE_DIR, out_dir: Path = CORPUS_DIR) -> dict:
    """Build the corpus into ``out_dir`` from the catalogs under ``locale_dir``; returns the manifest."""
    locale_dir, out_dir = Path(locale_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"locale_dir": str(locale_dir), "extra_packages": list(EXTRA_PACKAGES),
                      "filters": {"min_words": MIN_WORDS, "max_words": MAX_WORDS,
                                  "valid_fraction": VALID_FRACTION, "test_fraction": TEST_FRACTION},
                      "pairs": {}, "catalogs": [], "files": {}}
    for pair in PAIRS:
        src, tgt = pair.split("-")
        table, catalogs = collect(locale_dir, tgt)
        manifest["catalogs"] += [asdict(c) for c in catalogs]
        ordered = sorted(table, key=lambda en: (sentence_hash(en), en))
        counts = {}
        for split in SPLITS:
            rows = [(en, table[en]) for en in ordered if split_of(en) == split]
            counts[split] = len(rows)
            for lang, side in ((src, 0), (tgt, 1)):
                path = out_dir / f"{pair}.{split}.{lang}"
                path.write_text("".join(row[side] + "\n" for row in rows), encoding="utf-8")
                manifest["files"][path.name] = sha256_file(path)
        manifest["pairs"][pair] = {"catalogs": len(catalogs), "pairs": sum(counts.values()), **counts}
    manifest["packages"] = sorted({f"{c['package']}={c['version']}" for c in manifest["catalogs"] if c["package"]})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True,
                                                      ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def read_parallel(src_path: Path, tgt_path: Path, max_pairs: int = 0) -> list[tuple[str, str]]:
    """Line-aligned parallel text files as ``(source, target)`` pairs; the first ``max_pairs`` if > 0."""
    src = src_path.read_text(encoding="utf-8").splitlines()
    tgt = tgt_path.read_text(encoding="utf-8").splitlines()
    if len(src) != len(tgt):
        raise ValueError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}: not parallel")
    pairs = list(zip(src, tgt))
    return pairs[:max_pairs] if max_pairs > 0 else pairs


def corpus_files(pair: str, split: str, directory: Path | None = None) -> tuple[Path, Path]:
    src, tgt = check_pair(pair).split("-")
    root = Path(directory or CORPUS_DIR)
    return root / f"{pair}.{check_split(split)}.{src}", root / f"{pair}.{split}.{tgt}"


def load_pairs(pair: str, split: str, max_pairs: int = 0, *,
               directory: Path | None = None) -> list[tuple[str, str]]:
    """``(english, translation)`` pairs of the committed gettext corpus, in its fixed (hash) order.

    ``pair`` is ``"en-de"`` or ``"en-fr"``; ``split`` is ``"train"``, ``"valid"`` or ``"test"``;
    ``max_pairs`` > 0 keeps the first that many (a fixed subset, since the order is fixed).
    """
    src_path, tgt_path = corpus_files(pair, split, directory)
    if not (src_path.exists() and tgt_path.exists()):
        raise DatasetNotFound(f"translation corpus {pair} ({split})", [src_path, tgt_path],
                              "it is committed under data/corpus/; rebuild it with "
                              "`python -m repro data build-corpus`.")
    return read_parallel(src_path, tgt_path, max_pairs)


def corpus_sha256(pair: str, directory: Path | None = None) -> str:
    """One hash over the sha256 of every split file of a pair: the identity of its corpus."""
    h = hashlib.sha256()
    for split in SPLITS:
        for path in corpus_files(pair, split, directory):
            h.update(sha256_file(path).encode())
    return h.hexdigest()


def statistics(pair: str, max_pairs: int = 0, tokenize: Callable[[str], list] | None = None,
               directory: Path | None = None) -> pd.DataFrame:
    """Per split: pairs, mean words per sentence on each side and, given ``tokenize``, mean subwords."""
    src, tgt = check_pair(pair).split("-")
    rows = []
    for split in SPLITS:
        pairs = load_pairs(pair, split, max_pairs, directory=directory)
        row = {"pair": pair, "split": split, "pairs": len(pairs)}
        for lang, side in ((src, 0), (tgt, 1)):
            row[f"words/{lang}"] = sum(len(p[side].split()) for p in pairs) / max(len(pairs), 1)
            if tokenize is not None:
                row[f"subwords/{lang}"] = sum(len(tokenize(p[side])) for p in pairs) / max(len(pairs), 1)
        rows.append(row)
    return pd.DataFrame(rows)
