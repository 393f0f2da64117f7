# %% [markdown]
# # 08 · Tables
# The tables of the papers that this project can only report (ImageNet real vs bit-shift, the
# AttentiveNAS comparison, ADE20k segmentation), rendered from `data/reported/`; then every table
# artifact of the run collected into `tables.md` / `tables.tex`, the papers' numbers labelled
# *reported* beside ours, with a check that no computed value sits in a reported column.

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
from repro import tables
from repro.notebook import setup

ctx = setup(profile, out_dir)
ctx.profile.name

# %% [markdown]
# ## The reported-only tables
# Nothing is computed here: the experiments behind them (ImageNet training, a 500-epoch supernet on
# the AttentiveNAS space, ADE20k segmentation) are beyond this project's scale, so the verdict is
# *n/a*. The sentence under each says whether the paper's claim is at least consistent with its own
# numbers.

# %%
for artifact_id in tables.REPORTED_ONLY:
    table, caption = tables.reported_table(artifact_id)
    ctx.save_table(table, artifact_id, caption=caption, float_format="{:g}")
    measured, ev = tables.reported_result(artifact_id)
    ctx.record(artifact_id, measured=measured, evidence=ev)
    print(f"{artifact_id}: {measured} ({ev.reason})")
    display(table)

# %% [markdown]
# ## Every table, the papers' numbers beside ours
# `tables.md` and `tables.tex` collect every table artifact present in the output folder, in the
# papers' order. Each reported column is compared with `data/reported/<id>.csv`; a computed value
# in a reported column stops the notebook.

# %%
md_path, tex_path, checks = tables.write_tables(ctx.out, ctx.profile.name)
check_df = tables.check_frame(checks)  # raises on a computed value in a reported column
problems = check_df[check_df["status"] != "ok"]
print(f"{md_path.name}: {check_df['artifact_id'].nunique()} tables with reported columns, "
      f"{len(check_df)} reported columns checked, {len(problems)} problems")
problems
