"""The gettext corpus: .mo reading, cleaning and filters, a deterministic build, the loader, subwords."""
from __future__ import annotations

import gettext
import hashlib
import json
import struct
from pathlib import Path

import pytest

from repro.data import cli, corpus, subwords
from repro.data.errors import DatasetNotFound

HEADER = "Content-Type: text/plain; charset={}\nPlural-Forms: nplurals=2; plural=(n != 1);\n"


def write_mo(path: Path, messages: dict[str, str], charset: str = "UTF-8") -> Path:
    """A GNU .mo file written by hand from the format description (little-endian, no hash table).

    Keys may be ``"ctx\\x04msgid"`` or ``"singular\\x00plural"``; values ``"form0\\x00form1"``.
    """
    entries = sorted({"": HEADER.format(charset), **messages}.items())
    ids = [k.encode(charset) for k, _ in entries]
    strs = [v.encode(charset) for _, v in entries]
    n = len(entries)
    orig_at, trans_at = 28, 28 + 8 * n
    data_at = trans_at + 8 * n
    table, blob = [], b""
    for s in ids + strs:
        table.append((len(s), data_at + len(blob)))
        blob += s + b"\x00"
    head = struct.pack("<7I", 0x950412DE, 0, n, orig_at, trans_at, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + b"".join(struct.pack("<2I", *t) for t in table) + blob)
    return path


CATALOG_DE = {
    "cannot open the file for reading": "die Datei kann nicht zum Lesen geöffnet werden",
    "_Open the recent file now": "Die _letzte Datei jetzt öffnen",
    "<b>Warning:</b> the disk is full": "<b>Warnung:</b> die Platte ist voll",
    "%s: %d": "%s: %d",                                      # format-only
    "%s %s %s %s": "%s %s %s %s",                            # format-only, four tokens
    "too short here": "zu kurz hier",                        # three words
    "this message is untranslated": "",                      # untranslated
    "this message is kept identical": "this message is kept identical",
    "one file was removed from disk\x00%d files were removed from disk":
        "eine Datei wurde von der Platte entfernt\x00%d Dateien wurden von der Platte entfernt",
    "menu\x04the context is dropped here": "der Kontext wird hier entfernt",
    "the same English in two catalogs": "das gleiche Englisch in zwei Katalogen",
}
CATALOG_DE_2 = {
    "the same English in two catalogs": "das gleiche Englisch in zwei Katalogen",
    "cannot open the file for reading": "Datei kann nicht zum Lesen geöffnet werden",
}
CATALOG_DE_3 = {"the same English in two catalogs": "dasselbe Englisch in zwei Katalogen"}
CATALOG_FR = {"cannot open the file for reading": "impossible d'ouvrir le fichier en lecture"}


@pytest.fixture
def locale_dir(tmp_path: Path) -> Path:
    root = tmp_path / "locale"
    write_mo(root / "de" / "LC_MESSAGES" / "alpha.mo", CATALOG_DE)
    write_mo(root / "de" / "LC_MESSAGES" / "beta.mo", CATALOG_DE_2, charset="ISO-8859-1")
    write_mo(root / "de" / "LC_MESSAGES" / "gamma.mo", CATALOG_DE_3)
    write_mo(root / "fr" / "LC_MESSAGES" / "alpha.mo", CATALOG_FR)
    return root


def test_read_mo_agrees_with_gettext(tmp_path):
    messages = {"hello world": "Hallo Welt", "ünïcode text": "Ünïcode-Text", "a\nb": "c\nd"}
    for charset in ("UTF-8", "ISO-8859-1"):
        path = write_mo(tmp_path / f"{charset}.mo", messages, charset)
        with open(path, "rb") as fh:
            reference = gettext.GNUTranslations(fh)
        got = dict(corpus.read_mo(path))
        assert got == {k: reference.gettext(k) for k in messages}


def test_read_mo_plural_and_context(tmp_path):
    path = write_mo(tmp_path / "p.mo", {"one file\x00%d files": "eine Datei\x00%d Dateien",
                                        "ctx\x04Open": "Öffnen"})
    assert sorted(corpus.read_mo(path)) == [("Open", "Öffnen"), ("one file", "eine Datei")]


def test_read_mo_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.mo"
    bad.write_bytes(b"\x00" * 40)
    with pytest.raises(ValueError, match="not a .mo catalog"):
        corpus.read_mo(bad)


@pytest.mark.parametrize("raw, cleaned", [
    ("_Open Recent", "Open Recent"),
    ("Save &As now", "Save As now"),
    ("Set LC_ALL to C", "Set LC_ALL to C"),                 # an identifier, not an accelerator
    ("_NET_WM_NAME is _Unset", "_NET_WM_NAME is _Unset"),   # several markers: none removed
    ("a && b", "a && b"),
    ("<b>Bold</b> and <span weight='x'>more</span><br/>", "Bold and more"),
    ("git add [<options>] <pathspec>", "git add [<options>] <pathspec>"),  # metavariables stay
    ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),
    ("  two\n  lines\t here ", "two lines here"),
])
def test_clean_pair_one_side(raw, cleaned):
    assert corpus.clean_pair(raw, raw) == (cleaned, cleaned)


@pytest.mark.parametrize("msgid, msgstr, cleaned", [
    ("until you _log out", "beim Ab_melden", ("until you log out", "beim Abmelden")),   # inside a word
    ("set auto_raise now", "auto_raise jetzt setzen", ("set auto_raise now", "auto_raise jetzt setzen")),
    ("_Open the file", "Datei ö_ffnen und lesen_lassen", ("Open the file", "Datei ö_ffnen und lesen_lassen")),
])
def test_clean_pair_finds_the_translation_accelerator_inside_a_word(msgid, msgstr, cleaned):
    assert corpus.clean_pair(msgid, msgstr) == cleaned


@pytest.mark.parametrize("text, words", [
    ("%s: %d", 0), ("%1$s %(name)s {0} ${HOME} %%", 0), ("cannot open %s: %s for reading", 4),
    ("--all, -a   show 2 items", 4), ("Ünïcode wörter zählen", 3),
])
def test_n_words(text, words):
    assert corpus.n_words(text) == words


def test_keep():
    four = "one two three four"
    assert corpus.keep(four, "eins zwei drei vier")
    assert not corpus.keep(four, "")
    assert not corpus.keep(four, four)
    assert not corpus.keep("one two three", "eins zwei drei vier")
    assert not corpus.keep(four, "eins zwei drei")
    assert not corpus.keep(" ".join(["w"] * (corpus.MAX_WORDS + 1)), four)


def test_split_of_is_the_hash_rule():
    for i in range(200):
        en = f"Sentence, number {i}!"
        key = f"sentence number {i}"
        u = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8
        expected = "valid" if u < 0.05 else "test" if u < 0.10 else "train"
        assert corpus.split_key(en) == key and corpus.split_of(en) == expected
    counts = {s: sum(corpus.split_of(f"s{i}") == s for i in range(20000)) for s in corpus.SPLITS}
    assert 800 < counts["valid"] < 1200 and 800 < counts["test"] < 1200


def test_near_duplicates_share_a_split():
    assert corpus.split_key('Cannot open "%s".') == corpus.split_key("cannot open %s") == "cannot open"
    assert corpus.split_key("could not write file %1$s: %m") == "could not write file"


def _all_pairs(directory: Path, pair: str) -> dict[str, str]:
    return dict(p for split in corpus.SPLITS for p in corpus.load_pairs(pair, split, directory=directory))


def test_build_corpus_filters_and_dedups(locale_dir, tmp_path):
    out = tmp_path / "corpus"
    manifest = corpus.build_corpus(locale_dir, out)
    de = _all_pairs(out, "en-de")
    assert de == {
        "cannot open the file for reading": "Datei kann nicht zum Lesen geöffnet werden",  # tie: smallest
        "Open the recent file now": "Die letzte Datei jetzt öffnen",
        "Warning: the disk is full": "Warnung: die Platte ist voll",
        "one file was removed from disk": "eine Datei wurde von der Platte entfernt",
        "the context is dropped here": "der Kontext wird hier entfernt",
        "the same English in two catalogs": "das gleiche Englisch in zwei Katalogen",      # 2 votes to 1
    }
    assert _all_pairs(out, "en-fr") == CATALOG_FR
    for pair in corpus.PAIRS:
        for split in corpus.SPLITS:
            assert all(corpus.split_of(en) == split for en, _ in corpus.load_pairs(pair, split, directory=out))
    assert manifest["pairs"]["en-de"]["pairs"] == 6 and manifest["pairs"]["en-de"]["catalogs"] == 3
    assert {c["path"].split("/")[-1]: c["kept"] for c in manifest["catalogs"] if c["language"] == "de"} \
        == {"alpha.mo": 6, "beta.mo": 2, "gamma.mo": 1}
    assert manifest["extra_packages"] == list(corpus.EXTRA_PACKAGES)
    assert manifest["packages"] == []  # the fake catalogs belong to no Debian package
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    assert len(manifest["files"]) == 12
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest


def test_build_corpus_is_deterministic(locale_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    corpus.build_corpus(locale_dir, a)
    corpus.build_corpus(locale_dir, b)
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for p in a.iterdir():
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name


def test_cli_build_corpus_and_check(locale_dir, tmp_path, capsys):
    assert cli.main(["build-corpus", "--locale-dir", str(locale_dir), "--out", str(tmp_path / "c")]) == 0
    assert "en-de: 6 pairs from 3 catalogs" in capsys.readouterr().out
    assert corpus.load_pairs("en-fr", "train", directory=tmp_path / "c") + \
        corpus.load_pairs("en-fr", "valid", directory=tmp_path / "c") + \
        corpus.load_pairs("en-fr", "test", directory=tmp_path / "c") == list(CATALOG_FR.items())
    cli.check_corpus()
    assert "en-de" in capsys.readouterr().out


def test_load_pairs_errors_name_the_valid_choices(tmp_path):
    with pytest.raises(ValueError, match="valid pairs: en-de, en-fr"):
        corpus.load_pairs("en-es", "train")
    with pytest.raises(ValueError, match="valid splits: train, valid, test"):
        corpus.load_pairs("en-de", "dev")
    with pytest.raises(DatasetNotFound, match="build-corpus"):
        corpus.load_pairs("en-de", "train", directory=tmp_path)


def test_read_parallel_checks_alignment(tmp_path):
    (tmp_path / "a").write_text("one\ntwo\nthree\n")
    (tmp_path / "b").write_text("eins\nzwei\ndrei\n")
    assert corpus.read_parallel(tmp_path / "a", tmp_path / "b", max_pairs=2) == [("one", "eins"), ("two", "zwei")]
    (tmp_path / "b").write_text("eins\n")
    with pytest.raises(ValueError, match="not parallel"):
        corpus.read_parallel(tmp_path / "a", tmp_path / "b")


def test_committed_corpus_matches_its_manifest():
    manifest = json.loads((corpus.CORPUS_DIR / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((corpus.CORPUS_DIR / name).read_bytes()).hexdigest() == digest, name
    for pair in corpus.PAIRS:
        counts = manifest["pairs"][pair]
        assert counts["pairs"] >= 10_000
        assert len(corpus.load_pairs(pair, "test")) == counts["test"]
        assert len(corpus.load_pairs(pair, "train", max_pairs=100)) == 100


def test_subword_model_is_joint_cached_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "corpus"
    out.mkdir()
    rng = __import__("random").Random(0)
    en_words = "the file cannot be opened for reading now please try again later".split()
    de_words = "die Datei kann nicht zum Lesen geöffnet werden bitte später erneut".split()
    for split in corpus.SPLITS:
        rows = [(" ".join(rng.choices(en_words, k=6)), " ".join(rng.choices(de_words, k=6))) for _ in range(300)]
        (out / f"en-de.{split}.en").write_text("".join(r[0] + "\n" for r in rows))
        (out / f"en-de.{split}.de").write_text("".join(r[1] + "\n" for r in rows))
    sp = subwords.subword_model("en-de", 60, directory=out)
    assert sp.get_piece_size() <= 60
    assert (sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()) == (0, 1, 2, 3)
    for text in ("the file cannot be opened", "die Datei kann nicht geöffnet werden"):  # joint vocabulary
        ids = sp.encode(text)
        assert subwords.UNK_ID not in ids and sp.decode(ids) == text
    again = subwords.subword_model("en-de", 60, directory=out)
    assert again.serialized_model_proto() == sp.serialized_model_proto()
    assert len(list((tmp_path / "cache").glob("spm-en-de-60-*.pt"))) == 1
    with pytest.raises(ValueError, match="at least 8"):
        subwords.train_model(["a b c"], 4)
