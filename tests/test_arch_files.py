"""Architecture files (issue 17 item 6): every kind written and read back, raw configs of `python -m repro train`
loaded with their kind, the named errors, and `python -m repro cost --arch` against the spaces' own counts."""
from __future__ import annotations

import json
import random
from dataclasses import asdict

import pytest

from repro.cost.cli import main
from repro.data.errors import DataError
from repro.spaces.arch_files import KINDS, ArchFile, read_arch, validate, write_arch
from repro.spaces.autoformer import get_space
from repro.spaces.base import InvalidConfig
from repro.spaces.bignas_cnn import SPACES as CNN_SPACES
from repro.spaces.darts import PAPER_GENOTYPES, Genotype
from repro.spaces.shiftaddnas_cv import PAPER_FIG8, ShiftAddNASCVSpace
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace

GENOTYPE = PAPER_GENOTYPES["cifar10"]
NLP_TINY = ShiftAddNASNLPSpace("tiny").sample(random.Random(0))
CV_TINY = ShiftAddNASCVSpace("tiny").sample(random.Random(0))
VIT = get_space("T-fashion").sample(random.Random(0))
CNN = CNN_SPACES["cnn-fashion"].sample(random.Random(0))
EXAMPLES = {"shiftaddnas-cv": (CV_TINY, "tiny"), "shiftaddnas-nlp": (NLP_TINY, "tiny"),
            "darts-genotype": (GENOTYPE, "cifar10"), "autoformer-vit": (VIT, "T-fashion"), "bignas-cnn": (CNN, "cnn-fashion")}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_round_trips(tmp_path, kind):
    config, scale = EXAMPLES[kind]
    path = write_arch(tmp_path / f"{kind}.json", kind, config, scale=scale, budget=1.5, source="test")
    arch = read_arch(path)
    assert arch == ArchFile(kind, config, {"scale": scale, "budget": 1.5, "source": "test"})
    assert arch.config == config and arch.scale == scale
    assert read_arch(path, kind=kind) == arch
    assert not list(tmp_path.glob("*.tmp"))


def test_a_genotype_is_stored_as_lists_of_op_and_input(tmp_path):
    path = write_arch(tmp_path / "g.json", "darts-genotype", GENOTYPE)
    data = json.loads(path.read_text())
    assert data["format"] == "repro-arch" and data["version"] == 1 and data["kind"] == "darts-genotype"
    assert data["config"]["normal"][0] == ["skip_connect", 0] and len(data["config"]["reduce"]) == 8
    arch = read_arch(path)
    assert isinstance(arch.config, Genotype) and arch.config == GENOTYPE and arch.scale == "cifar10"


def test_the_scale_is_found_when_meta_has_none(tmp_path):
    # a tiny NLP config (3 encoder blocks) is valid at no larger scale
    assert read_arch(write_arch(tmp_path / "a.json", "shiftaddnas-nlp", NLP_TINY)).scale == "tiny"
    assert read_arch(write_arch(tmp_path / "b.json", "shiftaddnas-cv", PAPER_FIG8)).scale == "paper"
    assert validate("autoformer-vit", get_space("S").largest()) == (get_space("S").largest(), ("S",))


def test_a_config_valid_at_several_scales_needs_one_named(tmp_path):
    assert validate("shiftaddnas-cv", CV_TINY)[1] == ("small", "tiny")  # tiny depths are small depths too
    arch = read_arch(write_arch(tmp_path / "a.json", "shiftaddnas-cv", CV_TINY))
    with pytest.raises(InvalidConfig, match="valid at scales small, tiny: name one"):
        arch.scale
    assert read_arch(write_arch(tmp_path / "g.json", "darts-genotype", GENOTYPE)).scale == "cifar10"  # the default


@pytest.mark.parametrize("kind, name", [("shiftaddnas-cv", "arch.json"), ("shiftaddnas-nlp", "arch.json"),
                                        ("darts-genotype", "genotype.json"), ("autoformer-vit", "arch.json")])
def test_raw_configs_of_the_train_command_load_with_their_kind(tmp_path, kind, name):
    config, scale = EXAMPLES[kind]
    path = tmp_path / name
    path.write_text(json.dumps(asdict(config) if isinstance(config, Genotype) else config, indent=2))
    arch = read_arch(path, kind=kind)
    assert arch.kind == kind and arch.config == config and arch.meta == {} and scale in validate(kind, config)[1]
    with pytest.raises(DataError, match="raw config without the architecture envelope") as err:
        read_arch(path)
    assert str(path) in str(err.value) and "kind=" in str(err.value)


def test_files_that_are_not_architectures_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="is not JSON") as err:
        read_arch(bad, kind="shiftaddnas-cv")
    assert str(bad) in str(err.value) and "Fix: give a file written by" in str(err.value)
    with pytest.raises(DataError, match="cannot be read"):
        read_arch(tmp_path / "missing.json")
    bad.write_text(json.dumps({"format": "repro-arch", "version": 1, "kind": "resnet", "config": {}}))
    with pytest.raises(DataError, match="unknown architecture kind 'resnet'.*shiftaddnas-cv, shiftaddnas-nlp"):
        read_arch(bad)
    bad.write_text(json.dumps({"format": "repro-arch", "version": 2, "kind": "shiftaddnas-cv", "config": {}}))
    with pytest.raises(DataError, match="version 2"):
        read_arch(bad)
    with pytest.raises(DataError, match="unknown architecture kind 'cnn' asked for"):
        read_arch(bad, kind="cnn")


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = write_arch(tmp_path / "cv.json", "shiftaddnas-cv", PAPER_FIG8, scale="paper")
    with pytest.raises(DataError, match="holds a shiftaddnas-cv architecture, a shiftaddnas-nlp one was asked for"):
        read_arch(path, kind="shiftaddnas-nlp")


def test_configs_outside_their_space_are_named(tmp_path):
    path = tmp_path / "arch.json"
    path.write_text(json.dumps({"stages": [[1, 1], [1, 1, 1, 1], [3, 1, 0, 2, 9], [0, 0, 1, 0, 0]]}))
    with pytest.raises(DataError, match=r"does not validate as shiftaddnas-cv .*unknown block type 9") as err:
        read_arch(path, kind="shiftaddnas-cv")
    assert str(path) in str(err.value)
    path.write_text(json.dumps({"format": "repro-arch", "version": 1, "kind": "shiftaddnas-cv", "config": PAPER_FIG8,
                                "meta": {"scale": "tiny"}}))
    with pytest.raises(DataError, match=r"at tiny: stage 1 .*has 4 blocks; valid depths: \[1, 2\]"):
        read_arch(path)
    path.write_text(json.dumps({"normal": [["sep_conv_9x9", 0]] * 8, "reduce": [["skip_connect", 0]] * 8}))
    with pytest.raises(DataError, match="unknown operation 'sep_conv_9x9'"):
        read_arch(path, kind="darts-genotype")
    path.write_text(json.dumps({"stages": [1, 2, 3, 4]}))
    with pytest.raises(DataError, match="does not validate as shiftaddnas-cv"):
        read_arch(path, kind="shiftaddnas-cv")


def test_write_arch_refuses_what_it_could_not_read_back(tmp_path):
    with pytest.raises(InvalidConfig, match="unknown scale 'huge'; valid scales: paper, small, tiny"):
        write_arch(tmp_path / "a.json", "shiftaddnas-nlp", NLP_TINY, scale="huge")
    with pytest.raises(InvalidConfig, match="unknown architecture kind"):
        write_arch(tmp_path / "a.json", "bignas", {})
    with pytest.raises(InvalidConfig, match="meta of .* must hold JSON values"):
        write_arch(tmp_path / "a.json", "shiftaddnas-cv", PAPER_FIG8, budget=object())
    assert not (tmp_path / "a.json").exists()


# ---------------------------------------------------------------- python -m repro cost --arch

def cost(capsys, *args: str) -> dict:
    assert main(["--arch", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cost_of_a_cv_subnet_is_the_spaces_analytic_count(tmp_path, capsys):
    out = cost(capsys, str(write_arch(tmp_path / "cv.json", "shiftaddnas-cv", CV_TINY, scale="tiny")))
    assert out["kind"] == "shiftaddnas-cv" and out["scale"] == "tiny"
    assert out["macs"] == ShiftAddNASCVSpace("tiny").macs(CV_TINY) and out["energy_mj"] > 0


def test_cost_of_an_nlp_subnet_follows_hats_conventions(tmp_path, capsys):
    space = ShiftAddNASNLPSpace("tiny")
    out = cost(capsys, str(write_arch(tmp_path / "nlp.json", "shiftaddnas-nlp", NLP_TINY, scale="tiny")))
    assert (out["params"], out["flops"]) == (space.params(NLP_TINY), space.flops(NLP_TINY))
    assert out["macs"] == sum(space.macs(NLP_TINY).values())  # the built network counted = the analytic formula
    assert out["latency_ms"] > 0 and "HAT" in out["conventions"]


def test_cost_of_a_vit_subnet_is_the_spaces_count(tmp_path, capsys):
    space = get_space("T-fashion")
    out = cost(capsys, str(write_arch(tmp_path / "vit.json", "autoformer-vit", VIT, scale="T-fashion")))
    assert (out["params"], out["macs"]) == (space.params(VIT), space.flops(VIT))


def test_cost_of_a_cnn_subnet_is_the_spaces_count(tmp_path, capsys):
    space = CNN_SPACES["cnn-fashion"]
    out = cost(capsys, str(write_arch(tmp_path / "cnn.json", "bignas-cnn", CNN)))
    assert out["scale"] == "cnn-fashion"
    assert (out["params"], out["macs"]) == (space.params(CNN), space.flops(CNN))


def test_cost_of_a_genotype_is_the_zoos_network(tmp_path, capsys):
    from repro.cost import zoo

    path = write_arch(tmp_path / "g.json", "darts-genotype", GENOTYPE)
    out = cost(capsys, str(path), "--scale", "imagenet")
    ref = zoo.counts("shiftnas-imagenet")  # the bit-shift paper's ImageNet network of the same cell
    assert (out["params"], out["macs"], out["shift"]) == (ref.params, ref.macs, ref.shift)


def test_cost_of_a_raw_arch_json_needs_its_kind(tmp_path, capsys):
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(CV_TINY))
    assert main(["--arch", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "--kind" in err and "Traceback" not in err
    assert main(["--arch", str(path), "--kind", "shiftaddnas-cv"]) == 2
    assert "valid at scales small, tiny: name one" in capsys.readouterr().err
    out = cost(capsys, str(path), "--kind", "shiftaddnas-cv", "--scale", "tiny")
    assert out["macs"] == ShiftAddNASCVSpace("tiny").macs(CV_TINY)


def test_cost_arch_errors_exit_2(tmp_path, capsys):
    path = write_arch(tmp_path / "cv.json", "shiftaddnas-cv", PAPER_FIG8)
    assert main(["--arch", str(path), "--scale", "tiny"]) == 2
    assert "at tiny: stage 1" in capsys.readouterr().err
    assert main(["--arch", str(path), "--scale", "huge"]) == 2
    assert "unknown scale 'huge'" in capsys.readouterr().err
    assert main(["--arch", str(tmp_path / "none.json")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["--kind", "shiftaddnas-cv", "resnet18"]) == 2
    assert "--kind does not apply to MODEL" in capsys.readouterr().err
