"""Profiles: the four of them, validation, overrides, errors that name the valid choices."""
from __future__ import annotations

from dataclasses import fields

import pytest

from repro.profiles import PROFILE_NAMES, ConfigError, DataConfig, Profile, get_profile


def test_the_four_profiles():
    assert PROFILE_NAMES == ("smoke", "default", "gpu", "paper")
    for name in PROFILE_NAMES:
        assert get_profile(name).name == name
    smoke, default, gpu, paper = (get_profile(n) for n in PROFILE_NAMES)
    assert smoke.data.corpus_max_pairs > 0 and default.data.corpus_max_pairs == 0
    assert smoke.data.spm_vocab_size < default.data.spm_vocab_size < paper.data.spm_vocab_size
    assert paper.notebook_timeout_s is None and smoke.notebook_timeout_s > 0
    # gpu sits between default and paper
    assert default.supernet.steps < gpu.supernet.steps < paper.supernet.steps
    assert default.nlp.steps < gpu.nlp.steps < paper.nlp.steps


def test_paper_settings_match_the_papers():
    """Hand-copied from the papers (the profile's comments cite the sections)."""
    p = get_profile("paper")
    assert (p.supernet.batch_size * p.supernet.gpus, p.supernet.lr, p.supernet.weight_decay) == (1024, 1e-3, 0.05)
    assert (p.nlp.steps, p.nlp.retrain_steps, p.nlp.lr, p.nlp.search_iterations, p.nlp.population) == (
        40_000, 40_000, 1e-3, 30, 125)
    b = p.bitshift
    assert (b.warmup_epochs + b.op_epochs, b.retrain_epochs + b.topo_epochs, b.eval_epochs) == (30, 40, 200)
    assert (b.search_layers, b.search_channels, b.eval_layers, b.eval_channels, b.batch_size, b.lr) == (
        8, 16, 20, 36, 128, 0.01)
    q = p.probshift
    assert (q.epochs, q.warmup_epochs, q.batch_size * q.gpus, q.update_every, q.lr, q.weight_decay) == (
        500, 50, 1024, 100, 1e-3, 0.05)
    assert (q.space, q.val_subset, q.distribution_lr) == ("T", 50_000, 1e-3)


def test_environment_picks_the_profile(monkeypatch):
    monkeypatch.setenv("REPRO_PROFILE", "paper")
    assert get_profile().name == "paper"
    monkeypatch.delenv("REPRO_PROFILE")
    assert get_profile().name == "default"


def test_unknown_profile_names_the_valid_ones():
    with pytest.raises(ConfigError, match="valid profiles: smoke, default, gpu, paper"):
        get_profile("fast")
    with pytest.raises(ConfigError, match="valid profiles"):
        Profile(name="fast")


def test_overrides():
    prof = get_profile("smoke", {"data.spm_vocab_size": 500, "seed": 3})
    assert prof.data.spm_vocab_size == 500 and prof.seed == 3
    assert prof.data.corpus_max_pairs == get_profile("smoke").data.corpus_max_pairs
    assert get_profile("smoke").data.spm_vocab_size == 1000          # the stored profile is untouched
    assert get_profile(prof, {"data.corpus_max_pairs": 7}).data.spm_vocab_size == 500


def test_unknown_override_keys_name_the_valid_ones():
    sections = [f.name for f in fields(Profile) if f.name not in ("name", "seed", "seeds", "notebook_timeout_s")]
    with pytest.raises(ConfigError, match="valid sections") as err:
        get_profile("smoke", {"dataset.spm_vocab_size": 1})
    assert all(s in str(err.value) for s in sections)
    with pytest.raises(ConfigError, match="valid fields") as err:
        get_profile("smoke", {"data.vocab": 1})
    assert all(f.name in str(err.value) for f in fields(DataConfig))
    with pytest.raises(ConfigError, match="valid: seed, seeds, notebook_timeout_s"):
        get_profile("smoke", {"data": 1})
    with pytest.raises(ConfigError, match="valid: seed, seeds, notebook_timeout_s"):
        get_profile("smoke", {"epochs": 1})


def test_values_are_validated():
    with pytest.raises(ConfigError, match=r"DataConfig.corpus_max_pairs must be >= 0"):
        DataConfig(corpus_max_pairs=-1)
    with pytest.raises(ConfigError, match="must be >= 0"):
        get_profile("smoke", {"data.spm_vocab_size": -5})


def test_to_dict_holds_every_section():
    d = get_profile("default").to_dict()
    assert d["name"] == "default" and d["data"]["spm_vocab_size"] == 8000
    assert set(d) == {f.name for f in fields(Profile)}


def test_seeds_per_profile_and_validation():
    assert get_profile("smoke").seed_list == (0, 1)
    assert len(get_profile("default").seed_list) >= 3 and len(get_profile("paper").seed_list) >= 3
    assert get_profile("default", {"seed": 5, "seeds": 2}).seed_list == (5, 6)
    with pytest.raises(ConfigError, match="seeds must be an integer >= 1"):
        get_profile("default", {"seeds": 0})
