# %% [markdown]
# # 04 · ShiftAddNAS search spaces and evolutionary search
# The search spaces of Tables 1 and 2 drawn from the space objects, their sizes, the supernet size
# with and without weight sharing, and evolutionary searches under several FLOPs budgets on the
# trained supernets of notebook 03 (cached), with the searched subnets retrained from scratch.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
from repro.notebook import setup

ctx = setup(profile, out_dir)
ctx.profile.name

# %% [markdown]
# ## NLP
# Table 1 read from the space object, the size of both spaces, Fig. 2 drawn from the space objects,
# and per language pair the searched subnets of notebook 03 (cached) and the space's plain
# Transformer retrained from scratch and scored by BLEU on the test set (Fig. 5, Table 3 our rows).

# %%
import math

from repro.data.corpus import PAIRS
from repro.experiments import shiftaddnas_nlp as nlp
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace

nlp_paper = ShiftAddNASNLPSpace("paper")
t1 = nlp.tables.table1(nlp_paper)
ctx.save_table(t1, "sa-table1", caption="The NLP search space (Table 1): reported and read from our space object")
ev = nlp.claims.table1(t1)
ctx.record("sa-table1", measured=f"our paper-scale space object differs from Table 1 in {ev.effect:.0f} rows (plus "
           "the fixed 6 encoder blocks the table leaves implicit)", evidence=ev)
t1

# %%
sizes = nlp.tables.space_size(nlp_paper, ShiftAddNASCVSpace("paper"))
ctx.save_table(sizes, "sa-text-spacesize", caption="Search-space sizes: our exact counts beside the paper's")
nlp_log, cv_log = sizes["log10 (ours)"].iloc[0], sizes["log10 (ours)"].iloc[-1]
ctx.record("sa-text-spacesize", measured=f"NLP 10^{nlp_log:.1f} with per-layer choices (HAT's convention), "
           f"10^{sizes['log10 (ours)'].iloc[1]:.1f} with per-layer block types and global widths; "
           f"CV 10^{cv_log:.1f}; paper: about 10^14 and 10^9 (it does not state how it counts)",
           evidence=nlp.claims.space_size(sizes), nlp_log10=nlp_log, cv_log10=cv_log)
sizes

# %%
fig = nlp.figures.supernets(nlp_paper, ShiftAddNASCVSpace("paper"))
ctx.save_figure(fig, "sa-fig2")
ctx.record("sa-fig2", measured="both supernets drawn from the paper-scale space objects",
           evidence=nlp.claims.fig2())

# %%
nlp_exp = nlp.run.NLPExperiment.from_profile(ctx.profile)
nlp_results = {pair: nlp.run.run_search_and_retrain(nlp_exp, pair) for pair in PAIRS}
for pair, res in nlp_results.items():  # every searched subnet, as an architecture file
    for s in res["searches"]:
        ctx.save_arch(f"sa-nlp-{pair}-searched-{s['budget_flops'] / 1e6:.0f}mflops", "shiftaddnas-nlp", s["config"],
                      scale=nlp_exp.scale, pair=pair, budget_flops=int(s["budget_flops"]),
                      valid_loss=float(s["valid_loss"]))
ev5, summary = nlp.claims.trade_off(nlp_exp, nlp_results)
fig = nlp.figures.bleu_vs_flops(nlp_results, ctx.profile.name, nlp_exp.scale)
ctx.save_figure(fig, "sa-fig5")
bleus = {f"bleu_{pair}_{i}": r["bleu"] for pair, res in nlp_results.items() for i, r in enumerate(res["retrained"])}
ctx.record("sa-fig5", measured=summary + "; searched subnet vs the same-scale Transformer on the gettext corpus "
           "(the paper's points, bottom row, are WMT'14)", evidence=ev5, **bleus)
print(f"BLEU vs FLOPs ({ev5.verdict}): {summary}. {ev5.reason}")

# %%
t3 = nlp.tables.table3(nlp_results, ctx.profile.name, nlp_exp.scale)
ctx.save_table(t3, "sa-table3", caption="NLP comparison: reported (WMT'14), Transformer-Big costed by our models, "
               "and our retrained subnets (reduced scale, gettext corpus)")
ev3, summary3 = nlp.claims.trade_off(nlp_exp, nlp_results, ("energy_mj", "latency_ms"))
ctx.record("sa-table3", measured=summary3 + " (energy from the Eyeriss model; gettext corpus at reduced scale; "
           "only Transformer-Big is costed at paper scale)", evidence=ev3, **bleus)
t3


# %% [markdown]
# ## CV
# Table 2 read from the space object, the paper-scale supernet size per sharing mode (Sec. 4.4),
# searches on notebook 03's heterogeneous-sharing supernet under two MACs budgets (the 25% and 50%
# quantiles of sampled subnets' MACs) with the winners trained from scratch (Table 4, our rows), the
# latency predictor's error on the cost model's latencies and on latencies timed on this machine (with the
# timing's own repeatability beside it), one search under the predicted latency, and Fig. 8 drawn from
# the encodings.

# %%
import matplotlib.pyplot as plt

from repro.experiments import shiftaddnas_cv as cv
from repro.spaces.shiftaddnas_cv import PAPER_FIG8, ShiftAddNASCVSpace

cv_exp = cv.run.CVExperiment.from_profile(ctx.profile)
t2 = cv.tables.table2(cv_exp.space)
ctx.save_table(t2, "sa-table2", caption="The CV search space (Table 2): reported and read from our space objects")
ev = cv.claims.table2(t2)
ctx.record("sa-table2", measured=f"our paper-scale space object differs from Table 2 in {ev.effect:.0f} rows; it "
           f"holds {ShiftAddNASCVSpace('paper').size():.3g} configs (4 types per layer)", evidence=ev,
           space_size=ShiftAddNASCVSpace("paper").size())
t2

# %%
sizes = cv.tables.supernet_sizes()
ctx.save_table(sizes, "sa-text-supernetsize", caption="Paper-scale CV supernet parameters per weight-sharing mode")
none_m, hws_m, saving = sizes["Ours (M)"].iloc[[0, 2, 3]]
ctx.record("sa-text-supernetsize", measured=f"ours {none_m:.0f}M without sharing vs {hws_m:.0f}M with HWS "
           f"({saving:.0f}% smaller); paper 615M vs 364M (41%); Table 2's space at its widths in the released "
           "blocks (ResNet bottlenecks, BoTNet-style Attn); the released search supernet is BossNAS's, whose every "
           "layer also chooses its resolution (our space: one resolution per stage)", evidence=cv.claims.supernet_size(sizes),
           params_no_ws_m=none_m, params_hws_m=hws_m, saving_pct=saving)
sizes

# %%
searched = []
for q in (0.25, 0.5):
    found = cv.run.search(cv_exp, "heterogeneous", q)
    retrained = cv.run.train_standalone(cv_exp, found["best"])
    searched.append({"label": f"ShiftAddNAS (ours), MACs <= {found['macs_budget'] / 1e6:.2f}M (q={q})",
                     "config": found["best"], "test_acc": retrained["test_acc"]})
    ctx.save_arch(f"sa-cv-searched-q{int(100 * q)}", "shiftaddnas-cv", found["best"], scale=cv_exp.scale,
                  macs_budget=int(found["macs_budget"]), test_acc=float(retrained["test_acc"]))
predictor = cv.run.latency_predictor_check(cv_exp)
timed = cv.run.measured_predictor_check(cv_exp)         # the predictor on latencies timed on this machine
timed_search = cv.run.latency_search(cv_exp, "heterogeneous", 0.5)  # the predictor as the search's constraint
t4 = cv.tables.table4(searched, ctx.profile.name, cv_exp.scale)
ctx.save_table(t4, "sa-table4", caption="ImageNet comparison (reported) with our counted ops of the paper-scale "
               "models, and our searched subnets on Fashion-MNIST")
ev4 = cv.claims.table4(t4)
ctx.record("sa-table4", measured="counted columns of the zoo models vs the reported ones; "
           + "; ".join(f"{s['label']}: {s['test_acc']:.1f}% Fashion-MNIST test" for s in searched),
           evidence=ev4, latency_predictor_mape_pct=predictor["mape_pct"],
           latency_predictor_measured_mape_pct=timed["mape_pct"], latency_repeat_mape_pct=timed["repeat_mape_pct"],
           latency_measured_machine=timed["machine"], latency_search=timed_search,
           **{f"test_acc_q{int(100 * q)}": s["test_acc"] for q, s in zip((0.25, 0.5), searched)})
print(f"Table 4 ({ev4.verdict}): {ev4.reason}")
print(f"Latency predictor: {predictor['mape_pct']:.2f}% mean absolute error on {predictor['held_out']} held-out "
      f"subnets on the cost model's latencies, {timed['mape_pct']:.1f}% on latencies timed here (batch 1, one "
      f"thread, {timed['latency_ms_range'][0]:.1f}-{timed['latency_ms_range'][1]:.1f} ms, load "
      f"{timed['machine']['load_avg_1min']:.1f}), where timing the same subnets twice differs by "
      f"{timed['repeat_mape_pct']:.1f}% (paper: < 5%); the cost model ranks subnets as the timings do with "
      f"Spearman {timed['spearman_cost_model_vs_measured']:.2f}. Searched under predicted latency <= "
      f"{timed_search['budget_ms']:.2f} ms: predicted {timed_search['predicted_ms']:.2f} ms, timed "
      f"{timed_search['measured_ms']:.2f} ms ({'within' if timed_search['meets_budget'] else 'over'} the budget), "
      f"inherited accuracy {timed_search['inherited_acc']:.1f}%.")
t4

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"wspace": 0.45})
cv.figures.architecture(axes[0], PAPER_FIG8, ShiftAddNASCVSpace("paper"), "Paper, Fig. 8 (ImageNet, 82.8%)")
cv.figures.architecture(axes[1], searched[1]["config"], cv_exp.space,
                     f"Ours ({ctx.profile.name}, Fashion-MNIST, {searched[1]['test_acc']:.1f}%)")
ctx.save_figure(fig, "sa-fig8")
ctx.record("sa-fig8", measured=f"ours: {searched[1]['config']['stages']}; paper: {PAPER_FIG8['stages']}",
           evidence=cv.claims.fig8())
