# %% [markdown]
# # 03 · ShiftAddNAS supernet training
# One-shot training of the ShiftAddNAS supernets (one uniformly sampled subnet per step), at the
# scale the profile sets: the NLP supernet on the En-De / En-Fr gettext corpus and the CV supernet
# on Fashion-MNIST. Loss curves and the measured wall-clock cost beside the paper's GPU days
# (sa-table6, sa-table7, sa-table8).

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else figures/

# %%
from repro.notebook import setup

ctx = setup(profile, out_dir)
ctx.profile.name

# %% [markdown]
# ## NLP supernet

# %% [markdown]
# ## CV supernet
