# %% [markdown]
# # 01 · Weight distributions of Conv, Add and Shift layers
# ShiftAddNAS Fig. 3 and Fig. 7 claim that Conv weights follow a Gaussian, Add (AdderNet) weights a
# Laplacian and Shift weights a discrete distribution; Fig. 4 shares one weight pool between the
# three and maps it to a Laplacian for Add with a learnable transformation kernel (Eq. 6).
# Here three small networks that differ only in their two middle layers are trained on
# Fashion-MNIST (all start from Gaussian weights), and the kernel is fitted on Gaussian samples.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
from repro.experiments.weight_distributions import claims, figures, run, tables
from repro.models.small_net import OPS
from repro.notebook import setup
from repro.ops.weight_sharing import SharedConv2d

ctx = setup(profile, out_dir)
cfg = ctx.profile.weights
cfg

# %% [markdown]
# ## Train the Conv, Add and Shift networks over the profile's seeds (cached)

# %%
seeds = ctx.profile.seed_list
runs = run.train_networks(cfg, seeds)
table = tables.seed_table(runs)
table

# %% [markdown]
# ## sa-fig3: Conv vs Add weights, with the fitted Gaussian and Laplace densities
# Judged on every studied layer over the seeds, gated on accuracy and on the layers' movement from
# their Gaussian initialisation.

# %%
first = {op: r[0] for op, r in runs.items()}
fig3 = figures.plot_distributions(first, ("conv", "add"))
ctx.save_figure(fig3, "sa-fig3")
ctx.save_table(table, "sa-fig3", caption="Gaussian vs Laplace fits of trained Conv / Add / Shift weights per seed "
               "(log-likelihood per weight, KS statistic, relative movement from init); 'reported (paper)' is the claim")
ev3 = claims.claim_evidence(table, ("conv", "add"))
moved3 = claims.movement_summary(table, ("conv", "add"))
ctx.record("sa-fig3", measured=f"claimed density's log-likelihood advantage per layer over n={len(seeds)} seeds of "
           f"{cfg.train_subset or 60000} images x {cfg.epochs} epochs (best test accuracy "
           f"{table['test acc (%)'].max():.1f}%); relative movement from init {moved3}; {ev3.reason}", evidence=ev3,
           min_test_acc=float(table["test acc (%)"].min()), min_relative_change=float(table["relative change"].min()))
print(f"sa-fig3 ({ctx.profile.name} profile): {ev3.verdict}: {ev3.reason}")

# %% [markdown]
# ## sa-fig7: Conv, Add and Shift weights side by side

# %%
fig7 = figures.plot_distributions(first, OPS)
ctx.save_figure(fig7, "sa-fig7")
ev7 = claims.claim_evidence(table, OPS)
moved7 = claims.movement_summary(table, OPS)
levels = claims.shift_levels(table)
ctx.record("sa-fig7", measured=f"Conv and Add layers as in sa-fig3 (n={len(seeds)} seeds); Shift weights take "
           f"{levels} distinct values (at most {claims.SHIFT_LEVELS} can exist: 5-bit signed powers of two); relative "
           f"movement {moved7}",
           evidence=ev7, shift_distinct_values=levels,
           **{f"{op}_min_test_acc": float(table.loc[table.network == op, "test acc (%)"].min()) for op in OPS})
print(f"sa-fig7 ({ctx.profile.name} profile): {ev7.verdict}: {ev7.reason}. Shift weights can only take "
      f"{claims.SHIFT_LEVELS} values (5-bit signed powers of two), so only the Conv and Add layers are judged.")

# %% [markdown]
# ## sa-fig4: the shared pool and the learned transformation kernel

# %%
fits = [run.fit_kernels(cfg, seed) for seed in seeds]  # one fit per seed: its own samples and init
ktables = [tables.kernel_table(f) for f in fits]
fitted, ktable = fits[0], ktables[0]
layer = SharedConv2d(4 * cfg.width, 4 * cfg.width, 3, sharing="heterogeneous")
fig4 = figures.plot_kernel(fitted, layer)
ctx.save_figure(fig4, "sa-fig4")
ev4 = claims.kernel_evidence(ktables)
rows = ktable.set_index("weights")
ctx.record("sa-fig4", measured=f"kernel fitted alone on {cfg.kernel_samples} i.i.d. N(0, 1) samples per seed "
           f"({len(seeds)} seeds; not in a trained supernet): {ev4.reason}", evidence=ev4,
           kurtosis_before=rows.loc["shared weights (before T)", "excess kurtosis"],
           kurtosis_paper_kernel_per_seed=[t.set_index("weights").loc["T paper (d=200)", "excess kurtosis"]
                                           for t in ktables],
           kurtosis_released_kernel=rows.loc["T released (100 bins)", "excess kurtosis"],
           kl_before=rows.loc["shared weights (before T)", "KL to Laplace(0,1)"],
           kl_paper_kernel=rows.loc["T paper (d=200)", "KL to Laplace(0,1)"])
print(f"sa-fig4 ({ctx.profile.name} profile): {ev4.verdict}: {ev4.reason}. The kernel was fitted alone on "
      f"{cfg.kernel_samples} N(0, 1) samples per seed; this checks what T can represent, not that it moves in a "
      "supernet.")
ktable
