"""Notebook 07's evidence rules (:mod:`repro.evidence`): every ps-* verdict as an :class:`Outcome`,
over the profile's seeds, with the 84% Fashion-MNIST gate on the networks whose accuracy decides it."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from repro import evidence as ev
from repro.experiments.probability_shift import tables
from repro.experiments.probability_shift.run import BIN_WIDTHS_G, Q_FACTORS, SPEEDUPS, PanelRuns, SeedRuns, fig9_bins
from repro.experiments.probability_shift.tables import rank_correlation
from repro.profiles import ProbShiftConfig
from repro.search import probability_shift as ps

TABLE2_MARGIN = 0.5                      # pp: Table 2's largest finetune / retrain difference is 0.2
TV_FLOOR = 0.02                          # B must move this far from uniform before its shape says anything
#: The training regime at which the inherited accuracies pass the Fashion-MNIST floor, measured with
#: ``python -m repro train probshift-supernet`` (and ``probshift-supernet-cnn``) ``--set probshift.train_subset=0
#: --set probshift.val_subset=5000 --set probshift.test_subset=0 --set probshift.epochs=3 --set
#: probshift.update_every=20`` (seed 0, one thread each, the two side by side on 2 cores): the generator's subnet
#: of every bin after 3 epochs of the 55,000 remaining training images, batch 64, on the full test set: ViT
#: 84.3-84.8% in 402 s (a margin under 1 pp: another seed may miss it), CNN 86.7-88.1% in 526 s. The per-epoch
#: snapshots of ``run.train_run`` at the same settings gave, after epochs 1 / 2 / 3, ViT 81.3-81.7 / 84.2-84.5 /
#: 84.9-85.6% and CNN 79.0-83.5 / 83.9-86.0 / 86.6-87.1%. The default profile trains each supernet on 1,920 images
#: for 3 epochs (1/29 of that); notebook 07 trains 9 ViT and 3 CNN supernets per seed, about 1.5 h per seed at
#: the measured budget.
TRAINED_REGIME = ("measured to pass: all 55,000 training images for 3 epochs, 29x the default profile's, about "
                  "7 min per ViT supernet at one thread")
CNN_TRAINED_REGIME = ("measured to pass: all 55,000 training images for 3 epochs, 29x the default profile's, about "
                      "9 min per CNN supernet at one thread")


@dataclass
class Outcome:
    """What one artifact records: the measured sentence, the evidence, the key numbers."""
    measured: str
    evidence: ev.Evidence
    numbers: dict


def _trained_gate(name: str, accuracies: Sequence[float], regime: str | None = TRAINED_REGIME) -> ev.Gate:
    """The accuracy gate on ``accuracies``, named with the regime in which it was measured to pass
    (``regime``; ``None`` where none was measured)."""
    gate = ev.accuracy_gate(name, accuracies)
    return replace(gate, name=gate.name + f" [{regime}]") if regime else gate


def _largest_gate(name: str, curves: Sequence[pd.DataFrame], regime: str | None = TRAINED_REGIME) -> ev.Gate:
    """The accuracy gate on the subnet of the highest bin (the largest network of each arm and seed)."""
    return _trained_gate(name, [c["acc"].iloc[-1] for c in curves], regime)


def fig2(fit: dict[str, float], n: int) -> Outcome:
    """Fig. 2: the FLOPs of uniform subnets are near-normal: KS distance to one normal <= 0.05, |skew| <= 0.5."""
    e = ev.all_of({"KS distance": ev.exact(fit["ks_normal"], 0.0, unit="KS distance", abs_tol=0.05),
                   "skewness": ev.exact(fit["skew"], 0.0, unit="skewness", abs_tol=0.5)})
    return Outcome(f"{n} subnets: mean {fit['mean_g']:.3f} G, std {fit['std_g']:.3f} G, skew {fit['skew']:.3f}; KS "
                   f"distance to one normal {fit['ks_normal']:.3f}, to the Irwin-Hall normal mixture over (embed, "
                   f"depth) {fit['ks_mixture']:.3f}", e, fit)


def _fig4_panel(runs: Sequence[SeedRuns | PanelRuns], space: str, subnet: str, regime: str | None = TRAINED_REGIME
                ) -> tuple[ev.Evidence, str, dict]:
    """One panel of Fig. 4: mean inherited accuracy over bins, shift against the generator with uniform B,
    paired by seed, gated on the highest-bin ``subnet`` of both arms (``regime``: where the gate was measured
    to pass); (evidence, sentence, per-seed means)."""
    means = {m: [r.curves[m]["acc"].mean() for r in runs] for m in ("shift", "generator", "uniform")}
    gate = _largest_gate(f"highest-bin {subnet} (shift, generator)",
                         [r.curves[m] for r in runs for m in ("shift", "generator")], regime)
    e = ev.paired(means["shift"], means["generator"], unit="pp", gates=[gate])
    return e, (f"{space}: shift {np.mean(means['shift']):.2f}%, generator without shift "
               f"{np.mean(means['generator']):.2f}%, uniform sampling (best of 3 on validation) "
               f"{np.mean(means['uniform']):.2f}%; paired gain {e.summary()}; gate: {gate.describe()}"), means


def fig4(cfg: ProbShiftConfig, study_: list[SeedRuns], cnn: list[PanelRuns]) -> Outcome:
    """Fig. 4: probability shift beats the generator with uniform B in every space (the paper's panels
    a-c ViT, d CNN; here the ViT space and the CNN space): each panel decided by :func:`_fig4_panel`, the
    claim by ``all_of`` (one model-agnostic claim, Sec. 4.3: it holds only if it holds on both), with the
    gates of both panels recorded and every failed one named (the effect and interval shown are the ViT
    panel's)."""
    vit_e, vit_text, vit_means = _fig4_panel(study_, cfg.space, "subnet")
    cnn_e, cnn_text, cnn_means = _fig4_panel(cnn, cfg.cnn_space, f"{cfg.cnn_space} subnet",
                                             regime=CNN_TRAINED_REGIME)
    e = ev.all_of_with_gates({f"ViT ({cfg.space})": vit_e, f"CNN ({cfg.cnn_space})": cnn_e})
    return Outcome(f"mean inherited top-1 over bins, {len(study_)} seeds; {vit_text}; {cnn_text}", e,
                   vit_means | {f"cnn_{m}": v for m, v in cnn_means.items()})


def fig5(study_: list[SeedRuns]) -> Outcome:
    """Fig. 5: the learned B favours larger FLOPs groups: Spearman(bin, final probability) per seed, both directions."""
    def rho(result: ps.TrainResult) -> float:
        final = result.probs[-1][1]
        return float(stats.spearmanr(np.arange(len(final)), final).statistic)
    paper = [rho(r.runs["shift"]) for r in study_]
    reversed_ = [rho(r.runs["reversed"]) for r in study_]
    tv = [ps.total_variation(r.runs["shift"].probs[-1][1]) for r in study_]
    gate = ev.min_gate("TV(B, uniform) at the end, paper direction", tv, TV_FLOOR)
    e = ev.mean_effect(paper, unit="spearman", gates=[gate])
    return Outcome(f"Spearman(bin, final B) over {len(study_)} seeds: paper direction {np.round(paper, 2).tolist()} "
                   f"({e.summary()}), reversed direction {np.round(reversed_, 2).tolist()}; final TV distance from "
                   f"uniform {np.round(tv, 3).tolist()}", e,
                   {"spearman_paper": paper, "spearman_reversed": reversed_, "tv_final": tv,
                    "tv_history": [[(s, ps.total_variation(p)) for s, p in r.runs["shift"].probs] for r in study_]})


def fig7(cfg: ProbShiftConfig, study_: list[SeedRuns]) -> Outcome:
    """Fig. 7: the 0.1 G split step is the best, paired by seed against 0.2 and 0.05 G."""
    means = {w: [r.widths[w]["acc"].mean() for r in study_] for w in BIN_WIDTHS_G}
    gate = _largest_gate("highest-bin subnet (every step)", [r.widths[w] for r in study_ for w in BIN_WIDTHS_G])
    parts = {f"0.1 vs {w} G": ev.paired(means[0.1], means[w], unit="pp", gates=[gate]) for w in (0.2, 0.05)}
    e = ev.all_of(parts)
    return Outcome("mean inherited top-1 by step over seeds: " + ", ".join(
        f"{w} G {np.mean(m):.2f}%" for w, m in means.items()) + "; " + "; ".join(
        f"{k}: {p.summary()}" for k, p in parts.items()) + f"; gate: {gate.describe()}", e,
        {f"acc_step_{w}": m for w, m in means.items()})


def fig8(cfg: ProbShiftConfig, study_: list[SeedRuns]) -> Outcome:
    """Fig. 8: less frequent updates (larger q) give lower accuracy: Spearman(q, mean accuracy) per seed."""
    means = {f: [r.qs[f]["acc"].mean() for r in study_] for f in Q_FACTORS}
    rhos = [float(stats.spearmanr(Q_FACTORS, [means[f][i] for f in Q_FACTORS]).statistic)
            for i in range(len(study_))]
    rhos = [0.0 if np.isnan(v) else v for v in rhos]
    gate = _largest_gate("highest-bin subnet (every q)", [r.qs[f] for r in study_ for f in Q_FACTORS])
    e = ev.mean_effect(rhos, unit="spearman", direction="less", gates=[gate])
    qs = [max(1, round(cfg.update_every * f)) for f in Q_FACTORS]
    return Outcome(f"mean inherited top-1 by q = {qs} (paper 50/100/500/1000): " + ", ".join(
        f"{np.mean(means[f]):.2f}%" for f in Q_FACTORS) + f"; Spearman(q, acc) per seed {np.round(rhos, 2).tolist()} "
        f"({e.summary()}); gate: {gate.describe()}", e, {"spearman": rhos, "q": qs})


def table2(t2: pd.DataFrame) -> Outcome:
    """Table 2 (:func:`tables.table2`): finetuning gains less than the paper's largest margin (0.5 pp here)
    and retraining loses less than it: inherited weights suffice; paired by seed (mean over the two subnets)."""
    per = t2.groupby("seed")[["Inherit (%)", "Finetune (%)", "Retrain (%)"]].mean()
    gate = _trained_gate("inherited subnets (small, large)", t2["Inherit (%)"])
    parts = {"finetune gain < 0.5 pp": ev.paired(per["Finetune (%)"], per["Inherit (%)"], unit="pp",
                                                 direction="less", at_least=TABLE2_MARGIN, gates=[gate]),
             "retrain gain > -0.5 pp": ev.paired(per["Retrain (%)"], per["Inherit (%)"], unit="pp",
                                                 at_least=-TABLE2_MARGIN, gates=[gate])}
    e = ev.all_of(parts)
    return Outcome(f"{len(per)} seeds x 2 subnets: inherit {per['Inherit (%)'].mean():.2f}%, finetune "
                   + "; ".join(f"{k}: {p.summary()}" for k, p in parts.items()) + f"; gate: {gate.describe()}", e,
                   {"finetune_minus_inherit": (per["Finetune (%)"] - per["Inherit (%)"]).tolist(),
                    "retrain_minus_inherit": (per["Retrain (%)"] - per["Inherit (%)"]).tolist()})


def seed_stratified_correlation(groups: Sequence[tuple[Sequence[float], Sequence[float]]], *, method: str = "kendall",
                                gates: Sequence[ev.Gate] = (), seed: int = 0,
                                resamples: int = ev.BOOTSTRAP_RESAMPLES) -> ev.Evidence:
    """The mean over seeds of a per-seed correlation between two scores of the same subnets, with a
    percentile bootstrap that resamples the subnets within each seed (a helper evidence.py lacks:
    pooling subnets across seeds would add the between-supernet offsets to the correlation)."""
    corr, rng = rank_correlation(method), np.random.default_rng(seed)
    xs = [np.asarray(x, float) for x, _ in groups]
    ys = [np.asarray(y, float) for _, y in groups]
    effect = float(np.mean([corr(x, y) for x, y in zip(xs, ys)]))
    boots = []
    for _ in range(resamples):
        idx = [rng.integers(0, len(x), len(x)) for x in xs]
        boots.append(np.mean([corr(x[i], y[i]) for x, y, i in zip(xs, ys, idx)]))
    lo, hi = np.percentile(boots, [100 * (1 - ev.CONFIDENCE) / 2, 100 * (1 + ev.CONFIDENCE) / 2])
    n = sum(len(x) for x in xs)
    return ev.decide(effect, (float(lo), float(hi)), n, unit=method, gates=gates, min_n=4,
                     method=f"mean of per-seed {method} over {len(xs)} seeds, percentile bootstrap over "
                            f"{n} subnets within seeds")


def fig6(cfg: ProbShiftConfig, study_: list[SeedRuns], ranked: pd.DataFrame) -> Outcome:
    """Fig. 6 (:func:`tables.ranking`): inherited and finetuned accuracy of random subnets rank alike
    (Kendall tau > 0)."""
    groups = [(g["inherited"], g["finetuned"]) for _, g in ranked.groupby("seed")]
    gate = _trained_gate("finetuned random subnets", ranked["finetuned"])
    e = seed_stratified_correlation(groups, gates=[gate], seed=study_[0].seed)
    return Outcome(f"{len(ranked)} random subnets over {len(groups)} seeds ({cfg.rank_subnets} per seed; the paper "
                   f"30): Kendall tau inherited vs finetuned {e.summary()}; gate: {gate.describe()}", e,
                   {"tau_per_seed": [rank_correlation("kendall")(np.asarray(x), np.asarray(y)) for x, y in groups]})


def table4(cfg: ProbShiftConfig, study_: list[SeedRuns], suff: pd.DataFrame) -> Outcome:
    """Table 4 (:func:`tables.sufficiency`): Kendall tau between the grad_B score and training sufficiency,
    by epoch (:func:`tables.table4`); decided at the last epoch."""
    table = tables.table4(suff)
    last = suff[suff["epoch"] == suff["epoch"].max()]
    gate = _largest_gate("highest-bin subnet (shift)", [r.curves["shift"] for r in study_])
    e = seed_stratified_correlation([(g["grad_B"], g["sufficiency"]) for _, g in last.groupby("seed")], gates=[gate],
                                    seed=study_[0].seed)
    return Outcome(f"Kendall tau (grad_B score vs finetuning loss decrease), mean over {len(study_)} seeds, by "
                   f"epoch: " + ", ".join(f"{int(r.Epoch)}: {r['Kendall' + chr(39) + 's tau (grad_B)']:.2f}"
                                          for _, r in table.iterrows())
                   + f"; last epoch {e.summary()} ({cfg.rank_subnets} subnets per seed; the paper 25); "
                     f"gate: {gate.describe()}", e,
                   {"tau_grad_b": table["Kendall's tau (grad_B)"].tolist(),
                    "tau_loss_decrease": table["Kendall's tau (loss decrease)"].tolist()})


def fig9(df: pd.DataFrame) -> Outcome:
    """Fig. 9 (:func:`run.sampling_time`): the generator is 100-1000x faster than rejection sampling; per
    evaluator, the bins where it is."""
    cols = list(SPEEDUPS)
    where = {c: ([b for b, v in zip(df["bin_g"], df[c]) if 100 <= v <= 1000],
                 [b for b, v in zip(df["bin_g"], df[c]) if v > 1000]) for c in cols}
    # the paper's 52 h at 0.4 s per iteration implies a counted evaluator: decided on it, batch-1 generator
    key = "speedup_counted_batch1"
    worst = float(np.log10(df[key].min()))
    e = ev.decide(worst, (worst, worst), len(df), unit="log10 speed-up", at_least=2.0, min_n=1,
                  method="min over every reachable bin of log10(rejection / generator seconds), counted "
                         "evaluator, batch-1 generator (timed once; a bin the generator never hit counts at "
                         "its upper bound)")
    missed = df.loc[df["generator_hit"] == 0, "bin_g"].tolist()
    return Outcome("bins (G, left edge) where the generator is 100-1000x / over 1000x faster: " + "; ".join(
        f"{c.removeprefix('speedup_')}: {where[c][0] or 'none'} / {where[c][1] or 'none'}" for c in cols)
        + f"; the generator never hit {missed or 'no bin'}; min speed-up (counted, batch 1) "
          f"{10 ** worst:.3g}x", e,
        {"bins_timed_gflops": [round(x / 1e9, 2) for x in fig9_bins().edges],
         **{c: df[c].tolist() for c in cols}})


def table1(t1: pd.DataFrame) -> Outcome:
    """Table 1: the zoo's computed FLOPs of the baselines against the reported ones, within 5% (our count
    leaves out norms, softmax and activations); accuracies are reported only."""
    both = t1.dropna(subset=["FLOPs (G) ours"])
    e = ev.exact_all({m: (o, r) for m, o, r in zip(both["Model"], both["FLOPs (G) ours"], both["FLOPs (G) reported"])},
                     unit="GFLOPs", rel_tol=0.05)
    gap = float((both["FLOPs (G) ours"] - both["FLOPs (G) reported"]).abs().max())
    return Outcome(f"computed FLOPs of {len(both)} zoo models within {gap:.2f} G of the reported ones; accuracies and "
                   "the ShiftFormer/ShiftCNN architectures are reported only", e, {"max_flops_gap_g": gap})


def table3(cfg: ProbShiftConfig) -> Outcome:
    """Table 3: our training settings are read from the profile that ran."""
    return Outcome(f"ours: {cfg.epochs} epochs, batch {cfg.batch_size}, AdamW lr {cfg.lr:g}, weight decay "
                   f"{cfg.weight_decay:g}", ev.by_construction("our row is read from the profile that ran; the "
                                                              "paper's row is its Table 3"), {})
