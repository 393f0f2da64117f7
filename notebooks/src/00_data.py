# %% [markdown]
# # 00 · Data
# The embedded datasets every later notebook uses: Fashion-MNIST (Debian's `dataset-fashion-mnist`)
# and the English-German / English-French corpus built from Debian's gettext catalogs.
# This notebook proves the pipeline end to end: profile, data, a figure, a table.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

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

# %% [markdown]
# ## The translation corpus
# English-German and English-French pairs built from the gettext catalogs Debian ships
# (`python -m repro data build-corpus`; `data/corpus/manifest.json` lists every catalog with its
# package and version). Pairs per split and language pair, mean words per sentence, and the mean
# number of subword tokens under the joint sentencepiece model the NLP notebooks use
# (trained on the full train split, cached). `corpus_max_pairs` caps each split in this profile.

# %%
import json

from repro.data import PAIRS, load_pairs, subword_model
from repro.data.corpus import CORPUS_DIR, statistics

manifest = json.loads((CORPUS_DIR / "manifest.json").read_text())
cap, vocab = ctx.profile.data.corpus_max_pairs, ctx.profile.data.spm_vocab_size
models = {pair: subword_model(pair, vocab) for pair in PAIRS}
stats = pd.concat([statistics(pair, cap, models[pair].encode) for pair in PAIRS], ignore_index=True)
stats = stats.rename(columns={"pairs": "pairs used"})
stats.insert(2, "pairs in corpus", [manifest["pairs"][r.pair][r.split] for r in stats.itertuples()])
stats["subword vocabulary"] = [models[pair].get_piece_size() for pair in stats["pair"]]
ctx.save_table(stats, "data-corpus-stats",
               caption="Translation corpus: pairs per split, words and subwords per sentence")
stats

# %%
fig, axes = plt.subplots(1, len(PAIRS), figsize=(9, 3), sharey=True)
for ax, pair in zip(axes, PAIRS):
    train_pairs = load_pairs(pair, "train", cap)
    bins = np.arange(0, 52, 2)
    for side, lang in enumerate(pair.split("-")):
        ax.hist([len(p[side].split()) for p in train_pairs], bins=bins, alpha=0.6, label=lang)
    ax.set_title(f"{pair} train ({len(train_pairs)} pairs)")
    ax.set_xlabel("words per sentence")
    ax.legend()
axes[0].set_ylabel("sentences")
ctx.save_figure(fig, "data-corpus-lengths")

# %%
examples = pd.DataFrame([{"pair": pair, "English": en, "translation": xx}
                         for pair in PAIRS for en, xx in load_pairs(pair, "test", 4)])
print(examples.to_markdown(index=False))

# %%
sizes = {pair: manifest["pairs"][pair]["pairs"] for pair in PAIRS}
print(f"The corpus holds {sizes['en-de']} En-De and {sizes['en-fr']} En-Fr pairs of at least four words "
      f"from {manifest['pairs']['en-de']['catalogs']} / {manifest['pairs']['en-fr']['catalogs']} catalogs "
      f"(DESIGN.md: about 23k and 30k). With a {vocab}-piece joint "
      f"vocabulary an English sentence is {stats['subwords/en'].mean():.1f} subwords on average.")
