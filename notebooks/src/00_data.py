# %% [markdown]
# # 00 · Data
# The embedded datasets every later notebook uses: Fashion-MNIST (Debian's `dataset-fashion-mnist`)
# and the English-German / English-French corpus built from Debian's gettext catalogs.
# This notebook proves the pipeline end to end: profile, data, a figure, a table.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else figures/

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from repro.data import FASHION_CLASSES, load_fashion_mnist
from repro.notebook import setup

ctx = setup(profile, out_dir)
ctx.profile.name

# %% [markdown]
# ## Fashion-MNIST: a grid of samples and the class balance

# %%
train = load_fashion_mnist("train", ctx.profile.data.fashion_train_subset, normalize=False)
test = load_fashion_mnist("test", ctx.profile.data.fashion_test_subset, normalize=False)
x, y = train.tensors
fig, axes = plt.subplots(10, 8, figsize=(6, 7.5))
for c in range(10):
    idx = np.flatnonzero(y.numpy() == c)[:8]
    for j, ax in enumerate(axes[c]):
        ax.imshow(x[idx[j], 0], cmap="gray_r")
        ax.set_xticks([]); ax.set_yticks([])
    axes[c, 0].set_ylabel(FASHION_CLASSES[c], rotation=0, ha="right", fontsize=7)
fig.suptitle(f"Fashion-MNIST training samples ({len(train)} train / {len(test)} test in this profile)")
ctx.save_figure(fig, "data-fashion-samples")

# %%
balance = pd.DataFrame({
    "class": FASHION_CLASSES,
    "train": np.bincount(train.tensors[1].numpy(), minlength=10),
    "test": np.bincount(test.tensors[1].numpy(), minlength=10),
})
ctx.save_table(balance, "data-fashion-balance", caption="Fashion-MNIST class balance")
balance
