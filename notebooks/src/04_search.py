# %% [markdown]
# # 04 · ShiftAddNAS search spaces and evolutionary search
# The search spaces of Tables 1 and 2 drawn from the space objects, their sizes, the supernet size
# with and without weight sharing, and evolutionary searches under several FLOPs budgets on the
# trained supernets of notebook 03 (cached), with the searched subnets retrained from scratch.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else figures/

# %%
from repro.notebook import setup

ctx = setup(profile, out_dir)
ctx.profile.name

# %% [markdown]
# ## NLP

# %% [markdown]
# ## CV
