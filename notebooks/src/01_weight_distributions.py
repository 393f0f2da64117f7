# %% [markdown]
# # 01 · Weight distributions of Conv, Add and Shift layers
# ShiftAddNAS Fig. 3 and Fig. 7 claim that Conv weights follow a Gaussian, Add (AdderNet) weights a
# Laplacian and Shift weights a discrete distribution; Fig. 4 shares one weight pool between the
# three and maps it to a Laplacian for Add with a learnable transformation kernel (Eq. 6).
# Here three small networks that differ only in their two middle layers are trained on
# Fashion-MNIST (all start from Gaussian weights), and the kernel is fitted on Gaussian samples.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else figures/

# %%
import pandas as pd

from repro.experiments import weight_distributions as wd
from repro.notebook import setup
from repro.ops.weight_sharing import SharedConv2d

ctx = setup(profile, out_dir)
cfg = ctx.profile.weights
cfg

# %% [markdown]
# ## Train the Conv, Add and Shift networks (cached)

# %%
results = {op: wd.train_network(op, cfg, ctx.profile.seed) for op in wd.OPS}
table = wd.distribution_table(results)
table

# %% [markdown]
# ## sa-fig3: Conv vs Add weights, with the fitted Gaussian and Laplace densities

# %%
fig3 = wd.plot_distributions(results, ("conv", "add"))
ctx.save_figure(fig3, "sa-fig3")
ctx.save_table(table, "sa-fig3", caption="Gaussian vs Laplace fits of trained Conv / Add / Shift weights "
               "(log-likelihood per weight, KS statistic); 'reported (paper)' is the paper's claim")
verdict3, reason3 = wd.verdict(table, ("conv", "add"))
last = table[table["layer"] == wd.STUDIED[-1]].set_index("network")
ctx.record("sa-fig3", measured=reason3, verdict=verdict3, reason=reason3,
           conv_ll_gauss=last.loc["conv", "LL/weight Gaussian"], conv_ll_laplace=last.loc["conv", "LL/weight Laplace"],
           add_ll_gauss=last.loc["add", "LL/weight Gaussian"], add_ll_laplace=last.loc["add", "LL/weight Laplace"],
           add_kurtosis=last.loc["add", "excess kurtosis (trained)"],
           conv_kurtosis=last.loc["conv", "excess kurtosis (trained)"],
           add_relative_change=last.loc["add", "relative change"])
print(f"sa-fig3 ({ctx.profile.name} profile): {verdict3}: {reason3}")

# %% [markdown]
# ## sa-fig7: Conv, Add and Shift weights side by side

# %%
fig7 = wd.plot_distributions(results, wd.OPS)
ctx.save_figure(fig7, "sa-fig7")
verdict7, reason7 = wd.verdict(table, wd.OPS)
ctx.record("sa-fig7", measured=reason7, verdict=verdict7, reason=reason7,
           shift_distinct_values=int(last.loc["shift", "distinct values"]),
           conv_test_acc=last.loc["conv", "test acc (%)"], add_test_acc=last.loc["add", "test acc (%)"],
           shift_test_acc=last.loc["shift", "test acc (%)"])
print(f"sa-fig7 ({ctx.profile.name} profile): {verdict7}: {reason7}. Shift weights are discrete by "
      "construction (5-bit powers of two).")

# %% [markdown]
# ## sa-fig4: the shared pool and the learned transformation kernel

# %%
fitted = wd.fit_kernels(cfg, ctx.profile.seed)
ktable = wd.kernel_table(fitted)
layer = SharedConv2d(4 * cfg.width, 4 * cfg.width, 3, sharing="heterogeneous")
fig4 = wd.plot_kernel(fitted, layer)
ctx.save_figure(fig4, "sa-fig4")
verdict4, reason4 = wd.kernel_verdict(ktable)
rows = ktable.set_index("weights")
ctx.record("sa-fig4", measured=reason4, verdict=verdict4, reason=reason4,
           kurtosis_before=rows.loc["shared weights (before T)", "excess kurtosis"],
           kurtosis_paper_kernel=rows.loc["T paper (d=200)", "excess kurtosis"],
           kurtosis_released_kernel=rows.loc["T released (100 bins)", "excess kurtosis"],
           kl_before=rows.loc["shared weights (before T)", "KL to Laplace(0,1)"],
           kl_paper_kernel=rows.loc["T paper (d=200)", "KL to Laplace(0,1)"])
print(f"sa-fig4 ({ctx.profile.name} profile): {verdict4}: {reason4}. The kernel was fitted alone on "
      f"{cfg.kernel_samples} N(0, 1) samples; a Laplace sample has excess kurtosis 3.")
ktable
