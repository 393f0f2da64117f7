# %% [markdown]
# # 05 · Ablation: naive vs heterogeneous weight sharing (ShiftAddNAS Table 5)
# Two CV supernets trained with the same budget, one with naive weight sharing (one pool used as is by
# Conv, Add and Shift) and one with heterogeneous sharing (Add through the learnable transformation
# kernel, KL terms of Eq. 5); the heterogeneous one is notebook 03's (cached). The same subnets (an
# all-Add and an all-Shift one, the rest sampled) are trained from scratch at two seeds for the ground
# truth; Kendall tau, Pearson R and Spearman rho measure how well each supernet's inherited accuracy
# ranks them, and the difference between the two sharing modes gets a paired bootstrap interval over
# the subnets, gated by the ground truth's accuracy and two-seed agreement. Each supernet's search
# winner is then trained from scratch and costed by the cost model.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
import matplotlib.pyplot as plt

from repro.experiments import shiftaddnas_cv as cv
from repro.notebook import setup

ctx = setup(profile, out_dir)
exp = cv.run.CVExperiment.from_profile(ctx.profile)
exp

# %%
ours, per_subnet = cv.run.sharing_ablation(exp)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
for ax, mode in zip(axes, ("naive", "heterogeneous")):
    ax.scatter(per_subnet[f"inherited_acc_{mode}"], per_subnet["standalone_acc"])
    tau = ours.set_index("sharing").loc[mode, "kendall_tau"]
    ax.set(xlabel="inherited val. accuracy (%)", title=f"{mode} sharing (Kendall tau {tau:.2f})")
axes[0].set_ylabel("standalone test accuracy (%), mean of 2 seeds")
per_subnet

# %%
table = cv.tables.table5(ours, ctx.profile.name, exp.scale)
ctx.save_table(table, "sa-table5", caption="Naive vs heterogeneous weight sharing: ranking correlation between "
               "inherited and standalone accuracy, and each search's best subnet")
naive, hws = ours.set_index("sharing").loc["naive"], ours.set_index("sharing").loc["heterogeneous"]
metrics = tuple(cv.claims.CORRELATIONS.values())
n = len(per_subnet)
ev = cv.claims.table5(per_subnet, exp.standalone_steps)
ctx.record("sa-table5", measured=f"over {n} subnets (one supernet seed per mode, ground truth {exp.standalone_steps} "
           f"standalone steps at 2 seeds), HWS vs naive: Kendall {hws.kendall_tau:.2f} vs {naive.kendall_tau:.2f}, "
           f"Pearson {hws.pearson_r:.2f} vs {naive.pearson_r:.2f}, Spearman {hws.spearman_rho:.2f} vs "
           f"{naive.spearman_rho:.2f}; searched top-1 {hws.top1_test:.1f}% vs {naive.top1_test:.1f}% (one run)",
           evidence=ev, subnets=n,
           **{f"{m}_{k}": float(v[m]) for k, v in (("naive", naive), ("hws", hws)) for m in metrics},
           top1_naive=float(naive.top1_test), top1_hws=float(hws.top1_test))
print(f"Heterogeneous minus naive sharing over {n} subnets: {ev.verdict}. {ev.reason}")
table
