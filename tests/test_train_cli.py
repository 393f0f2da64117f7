"""``python -m repro train``: the list, every study's paper configuration for 2 steps on fake datasets
in the README's layouts (CPU), a resume after a kill, two gloo processes under torchrun, the errors.

The paper configuration runs with its batches shrunk to fit a CPU test, and the two ShiftAddNAS
spaces narrowed (the paper-width CV supernet holds 356M parameters and takes minutes a step on a
CPU: channels / 16 and the smallest depths; the NLP space: 2 + 2 layers of width <= 128); the data
pipelines (torchvision ImageNet with DeiT's recipe, WMT'14 token batching), the training recipes
and the 3-channel, 1000-class geometry stay the paper's.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fakes import write_cifar, write_imagenet, write_wmt14
from repro.experiments import cli, studies
from repro.spaces import shiftaddnas_cv as cv_space
from repro.spaces import shiftaddnas_nlp as nlp_space

SHRINK = {
    "shiftaddnas-cv": ["supernet.batch_size=2", "supernet.image_size=32"],
    "shiftaddnas-nlp": ["nlp.batch_size=256", "data.spm_vocab_size=100"],
    "bitshift": ["bitshift.batch_size=2"],
    "probshift": ["probshift.batch_size=2", "probshift.val_subset=2", "probshift.generator_warm_steps=2",
                  "probshift.gpus=2"],  # 2 accumulated micro-batches per step (the paper's 8 need more images)
}


def _shrink(name: str) -> list[str]:
    prefix = next(p for p in SHRINK if name.startswith(p))
    return [arg for s in SHRINK[prefix] for arg in ("--set", s)]


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """ImageNet class folders of JPEGs, CIFAR-10 pickles and WMT'14 text, pointed at by the env vars."""
    write_imagenet(tmp_path / "imagenet", classes=3, per_class=4)
    write_cifar(tmp_path / "cifar", "cifar10", n_train=16, n_test=8)
    for pair in ("en-de", "en-fr"):
        write_wmt14(tmp_path / "wmt14", pair, n=40)
    for var, sub in (("REPRO_IMAGENET", "imagenet"), ("REPRO_CIFAR", "cifar"), ("REPRO_WMT14", "wmt14"),
                     ("REPRO_CACHE", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    paper = cv_space.dims_for("paper")
    narrow = dataclasses.replace(paper, stages=tuple(dataclasses.replace(st, channels=st.channels // 16,
                                                                         depths=st.depths[:1])
                                                     for st in paper.stages))
    real = cv_space.dims_for
    monkeypatch.setattr(cv_space, "dims_for", lambda scale: narrow if scale == "paper" else real(scale))
    from repro.experiments.shiftaddnas_cv import run as cv_run
    from repro.experiments.shiftaddnas_nlp import run as nlp_run
    monkeypatch.setattr(cv_run, "dims_for", cv_space.dims_for)
    nlp_paper = nlp_space.dims_for("paper")
    nlp_narrow = dataclasses.replace(nlp_paper, encoder_layers=2, decoder_layers=(1, 2), embed=(128, 96, 64),
                                     heads=(4, 2), mlp=(256, 128), arbitrary=(2, 1))
    nlp_real = nlp_space.dims_for
    monkeypatch.setattr(nlp_space, "dims_for", lambda scale: nlp_narrow if scale == "paper" else nlp_real(scale))
    monkeypatch.setattr(nlp_run, "dims_for", nlp_space.dims_for)
    return tmp_path


def test_list_prints_one_study_per_line(capsys):
    assert cli.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(studies.STUDIES)
    assert all(len(line.split(None, 1)[1]) > 20 for line in lines)  # a description each
    for required in ("shiftaddnas-cv-supernet", "shiftaddnas-nlp-en-de-supernet", "shiftaddnas-nlp-en-fr-supernet",
                     "shiftaddnas-cv-retrain", "shiftaddnas-nlp-en-de-retrain", "bitshift-search", "bitshift-eval",
                     "probshift-supernet-vit-t", "probshift-supernet-vit-s", "probshift-supernet-vit-b"):
        assert required in studies.STUDIES


def _steps_logged(folder: Path) -> list[int]:
    rows = [json.loads(line) for f in sorted(folder.glob("metrics*.jsonl")) for line in f.read_text().splitlines()]
    return [r["step"] for r in rows]


@pytest.mark.parametrize("name", [n for n in studies.STUDIES if n not in ("probshift-supernet-vit-s",
                                                                         "probshift-supernet-vit-b")])
def test_every_study_runs_two_steps_of_its_paper_configuration(fake_data, name):
    """ViT-S / ViT-B differ from ViT-T only in the space's widths (tests/test_autoformer.py)."""
    out = fake_data / "out"
    extra = []
    if name == "shiftaddnas-cv-retrain":  # the paper's Fig. 8 subnet does not fit the narrowed depths
        import random

        arch = fake_data / "subnet.json"
        arch.write_text(json.dumps(cv_space.ShiftAddNASCVSpace(cv_space.dims_for("paper")).sample(random.Random(0))))
        extra = ["--arch", str(arch)]
    if name == "bitshift-eval":
        from repro.spaces.darts import PAPER_GENOTYPES

        arch = fake_data / "genotype.json"
        arch.write_text(json.dumps(dataclasses.asdict(PAPER_GENOTYPES["cifar10"])))
        extra = ["--arch", str(arch)]
    assert cli.main([name, "--profile", "paper", "--device", "cpu", "--max-steps", "2", "--out", str(out),
                     *_shrink(name), *extra]) == 0
    folder = out / name
    result = json.loads((folder / "result.json").read_text())
    assert (result["study"], result["profile"], result["max_steps"], result["world_size"]) == (name, "paper", 2, 1)
    assert (folder / "checkpoint.pt").exists()
    assert _steps_logged(folder) == [0, 1]
    if name.endswith(("retrain", "eval")):  # the trained architecture, as an architecture file
        from repro.spaces.arch_files import read_arch

        arch = read_arch(folder / "arch.json")
        assert arch.kind == {"shiftaddnas-cv-retrain": "shiftaddnas-cv", "bitshift-eval": "darts-genotype"}.get(
            name, "shiftaddnas-nlp")


def test_a_killed_run_resumes_and_a_checkpoint_is_never_overwritten(fake_data, capsys):
    out = fake_data / "out"
    args = ["shiftaddnas-cv-retrain", "--profile", "smoke", "--device", "cpu", "--out", str(out)]
    assert cli.main([*args, "--max-steps", "3"]) == 0
    before = (out / "shiftaddnas-cv-retrain" / "checkpoint.pt").read_bytes()
    assert cli.main([*args, "--max-steps", "5"]) == 2  # no --resume: refused, nothing touched
    assert "--resume" in capsys.readouterr().err
    assert (out / "shiftaddnas-cv-retrain" / "checkpoint.pt").read_bytes() == before
    assert cli.main([*args, "--max-steps", "5", "--resume"]) == 0
    assert _steps_logged(out / "shiftaddnas-cv-retrain") == [0, 1, 2, 3, 4]
    whole = fake_data / "whole"
    assert cli.main([*args[:-1], str(whole), "--max-steps", "5"]) == 0
    losses = [[json.loads(line)["loss"] for line in (o / "shiftaddnas-cv-retrain" / "metrics.jsonl").read_text()
               .splitlines()] for o in (out, whole)]
    assert losses[0] == losses[1]  # the resumed run is the uninterrupted one


def test_bad_settings_are_named(fake_data, capsys, monkeypatch):
    assert cli.main(["no-such-study", "--out", str(fake_data / "o")]) == 2
    assert "--list" in capsys.readouterr().err
    assert cli.main(["shiftaddnas-cv-retrain", "--set", "supernet.nope=1", "--out", str(fake_data / "o")]) == 2
    assert "valid fields" in capsys.readouterr().err
    bad = fake_data / "arch.json"
    bad.write_text("{not json")
    assert cli.main(["shiftaddnas-cv-retrain", "--profile", "smoke", "--arch", str(bad),
                     "--out", str(fake_data / "o")]) == 2
    assert "arch.json" in capsys.readouterr().err
    assert cli.main(["bitshift-eval", "--profile", "smoke", "--out", str(fake_data / "o2")]) == 2
    assert "bitshift-search" in capsys.readouterr().err
    missing = fake_data / "missing"
    monkeypatch.setenv("REPRO_IMAGENET", str(missing))
    assert cli.main(["probshift-supernet-vit-t", "--profile", "paper", "--out", str(fake_data / "o3"),
                     *_shrink("probshift")]) == 2
    assert str(missing) in capsys.readouterr().err


@pytest.mark.parametrize("name", ["bitshift-search", "bitshift-search-darts"])
def test_a_finished_bitshift_search_reports_the_supernets_accuracy_per_epoch(fake_data, name):
    """One history row per search epoch, through DOTS's four stages in order, or DARTS's one bi-level stage
    as long (the measured search-supernet budget and the DARTS collapse of notebook 06 are read from this
    report), and the genotype's skip connections in the normal cell."""
    from repro.profiles import get_profile
    from repro.search import darts, dots
    from repro.spaces.arch_files import read_arch

    c = get_profile("smoke").bitshift
    out = fake_data / "out"
    assert cli.main([name, "--profile", "smoke", "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads((out / name / "result.json").read_text())
    history = result["history"]
    assert [row["epoch"] for row in history] == list(range(1, result["epochs"] + 1))
    epochs = (c.warmup_epochs, c.op_epochs, c.retrain_epochs, c.topo_epochs)
    assert len(history) == sum(epochs)
    phases = ([p for p, n in zip((dots.WARMUP, dots.OPERATION, dots.RETRAIN, dots.TOPOLOGY), epochs) for _ in range(n)]
              if name == "bitshift-search" else [darts.BILEVEL] * sum(epochs))
    assert [row["phase"] for row in history] == phases
    assert all(0 <= row["test_acc"] <= 100 and row["alpha_moved"] >= 0 for row in history)
    genotype = read_arch(out / name / "genotype.json", kind="darts-genotype").config
    assert result["skip_connect_normal"] == genotype.count("skip_connect") == sum(
        op == "skip_connect" for op, _ in result["genotype"]["normal"])


@pytest.mark.parametrize("name", ["shiftaddnas-cv-retrain", "probshift-supernet"])
def test_two_processes_under_torchrun_on_gloo(fake_data, name):
    """A study on the engine (a retraining; the probability-shift supernet with its generator warm-up and
    distribution updates) under torchrun: 2 gloo ranks finish the steps, rank 0 alone writes."""
    out = fake_data / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(port), "-m", "repro", "train", name, "--profile", "smoke", "--device",
                           "cpu", "--max-steps", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / name / "result.json").read_text())
    assert result["world_size"] == 2 and result["steps"] == 2
    assert _steps_logged(out / name) == [0, 1]  # rank 0 alone writes


@pytest.mark.parametrize("name, steps", [("shiftaddnas-cv-retrain", "supernet.standalone_steps=2"),
                                         ("shiftaddnas-nlp-en-de-retrain", "nlp.retrain_steps=2")])
def test_a_finished_retraining_is_scored_on_the_test_set(fake_data, name, steps):
    """CV: top-1 on ILSVRC val (fake: 3 classes, so 0-100 %); NLP: both labelled BLEUs on newstest2014."""
    extra = []
    if name == "shiftaddnas-cv-retrain":
        import random

        arch = fake_data / "subnet.json"
        arch.write_text(json.dumps(cv_space.ShiftAddNASCVSpace(cv_space.dims_for("paper")).sample(random.Random(0))))
        extra = ["--arch", str(arch)]
    out = fake_data / "out"
    assert cli.main([name, "--profile", "paper", "--device", "cpu", "--out", str(out), *_shrink(name),
                     "--set", steps, *extra]) == 0
    result = json.loads((out / name / "result.json").read_text())
    assert result["steps"] == 2
    if name == "shiftaddnas-cv-retrain":  # the raw weights (as the released evaluation) and their EMA (DeiT's)
        assert 0 <= result["test_acc"] <= 100 and 0 <= result["test_acc_ema"] <= 100
    else:
        assert 0 <= result["sacre_bleu"] <= 100 and 0 <= result["hat_bleu"] <= 100
        assert set(result["bleu_labels"]) == {"sacre_bleu", "hat_bleu"}


def test_a_study_architecture_file_resumes_and_is_costed(fake_data, capsys):
    from repro.cost import cli as cost_cli

    out = fake_data / "out"
    args = ["shiftaddnas-cv-retrain", "--profile", "smoke", "--device", "cpu", "--out", str(out)]
    assert cli.main([*args, "--max-steps", "1"]) == 0
    arch = out / "shiftaddnas-cv-retrain" / "arch.json"
    first = arch.read_text()
    assert cli.main([*args, "--max-steps", "2", "--resume"]) == 0  # reads its own arch.json back
    assert arch.read_text() == first
    capsys.readouterr()
    assert cost_cli.main(["--arch", str(arch), "--json"]) == 0
    assert "params" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["probshift-supernet", "probshift-supernet-cnn"])
def test_a_finished_probshift_supernet_scores_the_generators_subnet_of_every_bin(fake_data, name):
    """ViT and CNN panels: the generator's subnet of each bin, top-1 on the test images (the measured
    gate budget of notebook 07 comes from this report); an unfinished run reports no score."""
    from repro.experiments.probability_shift import run as pse
    from repro.profiles import get_profile

    cfg = get_profile("smoke").probshift
    family = "cnn" if name.endswith("cnn") else "vit"
    n_bins = pse.bins_for(pse.space_of(cfg, family), cfg.bin_width).count
    out = fake_data / "out"
    assert cli.main([name, "--profile", "smoke", "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads((out / name / "result.json").read_text())
    assert len(result["test_acc_by_bin"]) == len(result["bin_centers_mflops"]) == n_bins
    assert all(0 <= a <= 100 for a in result["test_acc_by_bin"])
    assert result["bin_centers_mflops"] == sorted(result["bin_centers_mflops"])
    assert cli.main([name, "--profile", "smoke", "--device", "cpu", "--max-steps", "2", "--out",
                     str(fake_data / "short")]) == 0
    assert "test_acc_by_bin" not in json.loads((fake_data / "short" / name / "result.json").read_text())
