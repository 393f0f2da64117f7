"""The ShiftAddNAS verdict rules (repro.experiments.shiftaddnas_cv / _nlp, their claims) on hand-built inputs."""
import numpy as np
import pandas as pd
import pytest

from repro import evidence
from repro.experiments import shiftaddnas_cv as cv
from repro.experiments import shiftaddnas_nlp as nlp
from repro.experiments.shiftaddnas_nlp.run import NLPExperiment
from repro.profiles import get_profile
from repro.spaces.shiftaddnas_cv import BLOCK_TYPES, ShiftAddNASCVSpace


def _per_subnet(truth, hws, naive, seed_gap=0.0):
    truth = np.asarray(truth, float)
    return pd.DataFrame({"standalone_acc_seed0": truth, "standalone_acc_seed1": truth + seed_gap,
                         "standalone_acc": truth + seed_gap / 2, "inherited_acc_heterogeneous": hws,
                         "inherited_acc_naive": naive})


def test_ablation_holds_when_hws_ranks_and_naive_does_not():
    rng = np.random.default_rng(0)
    truth = np.linspace(85, 90, 20)
    ev = cv.claims.table5(_per_subnet(truth, truth + rng.normal(0, 0.05, 20), rng.permutation(truth)), 100)
    assert ev.verdict == evidence.HOLDS
    assert all(g.passed for g in ev.gates) and ev.n == 20


def test_ablation_accuracy_gate_names_the_floor_and_the_budget():
    truth = np.linspace(70, 80, 12)
    ev = cv.claims.table5(_per_subnet(truth, truth, truth[::-1]), 100)
    assert ev.verdict == evidence.NOT_TESTABLE
    assert "test accuracy" in ev.reason and "84" in ev.reason and "standalone steps" in ev.reason


def test_ablation_reliability_gate_fails_when_the_seeds_disagree():
    truth = np.linspace(85, 90, 12)
    df = _per_subnet(truth, truth, truth)
    df["standalone_acc_seed1"] = truth[::-1]
    ev = cv.claims.table5(df, 100)
    failed = [g.name for g in ev.gates if not g.passed]
    assert ev.verdict == evidence.NOT_TESTABLE and failed == ["ground-truth Kendall tau between its two seeds"]


def test_ablation_subnets_include_add_and_shift_heavy_ones():
    space = ShiftAddNASCVSpace("tiny")
    configs = cv.run.ablation_subnets(space, 6, seed=3)
    assert len(configs) == 6 and len({repr(c) for c in configs}) == 6
    for c in configs:
        space.validate(c)
    for cfg, name in zip(configs[:2], ("Add", "Shift")):
        assert {code for layers in cfg["stages"] for code in layers} == {BLOCK_TYPES.index(name)}


def _sizes(none, hws, saving):
    return pd.DataFrame({"Supernet": ["w/o WS", "w/ naive WS", "w/ HWS", "Saving of HWS (%)"],
                         "Ours (M)": [none, none, hws, saving], "Reported (M)": [615.0, np.nan, 364.0, 41.0]})


def test_supernet_size_within_and_outside_tolerance():
    assert cv.claims.supernet_size(_sizes(650.0, 380.0, 41.5)).verdict == evidence.HOLDS
    assert cv.claims.supernet_size(_sizes(1000.0, 380.0, 41.5)).verdict == evidence.DOES_NOT_HOLD
    assert cv.claims.supernet_size(_sizes(615.0, 364.0, 30.0)).verdict == evidence.DOES_NOT_HOLD


def test_table2_evidence_counts_differing_rows():
    same = pd.DataFrame({"Reported": ["[Attn, Conv]", "[1, 2]"], "Ours, paper scale": ["['Conv', 'Attn']", "[1, 2]"]})
    assert cv.claims.table2(same).verdict == evidence.HOLDS
    other = same.assign(**{"Ours, paper scale": ["['Conv']", "[1, 2]"]})
    ev = cv.claims.table2(other)
    assert ev.verdict == evidence.DOES_NOT_HOLD and ev.effect == 1


def test_table4_counted_columns_and_untestable_accuracy():
    row = {"Model": "ResNet-50", "Source": "reported", "Ours: zoo model": "resnet50", "Params (M)": 26.0,
           "Ours: params (M)": 25.6, "MACs (G)": 3.9, "Ours: macs (G)": 4.09, "#Mult (G)": 3.9,
           "Ours: mult (G)": 4.09, "#Add (G)": 3.9, "Ours: add (G)": 4.09, "#Shift (G)": 0.0, "Ours: shift (G)": 0.0}
    ours = {"Model": "ours", "Source": "ours", "Ours: zoo model": ""}
    ev = cv.claims.table4(pd.DataFrame([row, ours]))
    assert ev.verdict == evidence.NOT_TESTABLE and "counted columns: holds" in ev.reason
    bad = cv.claims.table4(pd.DataFrame([{**row, "Ours: macs (G)": 5.0}]))
    assert "counted columns: does not hold" in bad.reason


def test_cost_share_tolerance():
    t8 = pd.DataFrame({"CV ours share (%)": [80.0, 20.0], "CV reported share (%)": [86.5, 13.5]})
    assert cv.claims.table8(t8).verdict == evidence.HOLDS
    assert cv.claims.table8(t8.assign(**{"CV ours share (%)": [40.0, 60.0]})).verdict == evidence.DOES_NOT_HOLD


def test_space_size_half_a_decade():
    sizes = pd.DataFrame({"log10 (ours)": [14.3, 20.0, 9.4], "log10 (reported)": [14.0, 14.0, 9.0]})
    assert nlp.claims.space_size(sizes).verdict == evidence.HOLDS
    assert nlp.claims.space_size(sizes.assign(**{"log10 (ours)": [15.0, 14.0, 9.0]})).verdict == \
        evidence.DOES_NOT_HOLD


def _exp(profile):
    return NLPExperiment.from_profile(get_profile(profile))


def _results(base_bleus, searched_bleus, base_flops=100.0, searched_flops=30.0, searched_ms=1.0):
    per_seed = [[{"bleu": b, "flops": base_flops, "latency_ms": 2.0, "model": "Transformer"},
                 {"bleu": s, "flops": searched_flops, "latency_ms": searched_ms, "model": "searched"}]
                for b, s in zip(base_bleus, searched_bleus)]
    return {"searches": [], "retrained": per_seed[0], "per_seed": per_seed}


def test_trade_off_gate_names_the_bleu_floor_and_budget():
    ev, _ = nlp.claims.trade_off(_exp("smoke"), {"en-de": _results([0.5], [0.2])})
    assert ev.verdict == evidence.NOT_TESTABLE
    assert "BLEU" in ev.reason and f"{evidence.BLEU_FLOOR:g}" in ev.reason and "min" in ev.reason


@pytest.mark.parametrize("searched, flops, verdict", [
    ([24.0, 25.0, 24.5], 30.0, evidence.HOLDS),
    ([18.0, 19.0, 18.5], 30.0, evidence.DOES_NOT_HOLD),
    ([24.0, 25.0, 24.5], 200.0, evidence.DOES_NOT_HOLD),
])
def test_trade_off_paired_over_seeds(searched, flops, verdict):
    results = {pair: _results([20.0, 21.0, 20.5], searched, searched_flops=flops) for pair in ("en-de", "en-fr")}
    ev, summary = nlp.claims.trade_off(_exp("default"), results)
    assert ev.verdict == verdict and "en-fr" in summary


def test_table1_evidence():
    t1 = pd.DataFrame({"Same": [True, None, True]})
    assert nlp.claims.table1(t1).verdict == evidence.HOLDS
    assert nlp.claims.table1(pd.DataFrame({"Same": [True, False]})).verdict == evidence.DOES_NOT_HOLD


def test_bleu_gate_checks_every_model():
    assert not nlp.run.bleu_gate([{"bleu": 30.0}, {"bleu": 9.0}]).passed
    assert nlp.run.bleu_gate([{"bleu": 30.0}, {"bleu": 10.0}]).passed


def test_trade_off_needs_every_cost_lower():
    results = {"en-de": _results([20.0, 21.0, 20.5], [24.0, 25.0, 24.5], searched_ms=3.0)}
    assert nlp.claims.trade_off(_exp("default"), results)[0].verdict == evidence.HOLDS
    ev, summary = nlp.claims.trade_off(_exp("default"), results, ("flops", "latency_ms"))
    assert ev.verdict == evidence.DOES_NOT_HOLD and "ms" in summary


def test_nlp_experiment_reads_the_profile_once():
    """The experiment's fields are the cache key: a changed setting (the label smoothing) is a new experiment."""
    p = get_profile("smoke")
    exp = NLPExperiment.from_profile(p)
    assert (exp.seeds, exp.seed, exp.vocab_size, exp.max_pairs) == (p.seed_list, p.seed, p.data.spm_vocab_size,
                                                                    p.data.corpus_max_pairs)
    assert (exp.lr, exp.label_smoothing, exp.retrain_steps) == (p.nlp.lr, p.nlp.label_smoothing, p.nlp.retrain_steps)
    assert NLPExperiment.from_profile(p.override({"nlp.label_smoothing": 0.0})) != exp


def test_cv_experiment_holds_the_latency_predictor_recipe():
    p = get_profile("smoke")
    exp = cv.run.CVExperiment.from_profile(p.override({"supernet.predictor_lr": 1e-2}))
    assert (exp.predictor_hidden, exp.predictor_epochs, exp.predictor_lr) == (64, 300, 1e-2)
    assert exp.predictor_samples == p.supernet.predictor_samples


@pytest.mark.parametrize("study", [cv, nlp])
def test_claims_tables_and_figures_depend_on_run_never_back(study):
    import ast
    from pathlib import Path

    run_file = Path(study.run.__file__)
    imported = {n.module for n in ast.walk(ast.parse(run_file.read_text())) if isinstance(n, ast.ImportFrom)}
    assert not {f"{study.__name__}.{part}" for part in ("claims", "tables", "figures")} & imported
    assert study.__name__ not in imported
