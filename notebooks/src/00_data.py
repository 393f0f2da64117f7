# %% [markdown]
# # 00 · Data
# The embedded datasets every later notebook uses: Fashion-MNIST (Debian's `dataset-fashion-mnist`)
# and the English-German / English-French corpus built from Debian's gettext catalogs.
# This notebook proves the pipeline end to end: profile, data, a figure, a table.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
from repro.experiments.data_overview import figures, run, tables
from repro.notebook import setup

ctx = setup(profile, out_dir)
data = run.DataOverview.from_profile(ctx.profile)
ctx.profile.name

# %% [markdown]
# ## Fashion-MNIST: a grid of samples and the class balance

# %%
train, test = run.fashion(data)
ctx.save_figure(figures.fashion_samples(train, test), "data-fashion-samples")

# %%
balance = tables.class_balance(train, test)
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
manifest = run.corpus_manifest()
stats = tables.corpus_stats(data.corpus_max_pairs, run.subword_models(data), manifest)
ctx.save_table(stats, "data-corpus-stats",
               caption="Translation corpus: pairs per split, words and subwords per sentence")
stats

# %%
ctx.save_figure(figures.corpus_lengths(data.corpus_max_pairs), "data-corpus-lengths")

# %%
print(tables.examples().to_markdown(index=False))

# %%
sizes = {pair: manifest["pairs"][pair]["pairs"] for pair in ("en-de", "en-fr")}
print(f"The corpus holds {sizes['en-de']} En-De and {sizes['en-fr']} En-Fr pairs of at least four words "
      f"from {manifest['pairs']['en-de']['catalogs']} / {manifest['pairs']['en-fr']['catalogs']} catalogs "
      f"(DESIGN.md: about 23k and 30k). With a {data.spm_vocab_size}-piece joint "
      f"vocabulary an English sentence is {stats['subwords/en'].mean():.1f} subwords on average.")
