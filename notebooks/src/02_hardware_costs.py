# %% [markdown]
# # 02 · Hardware costs
# The papers' efficiency claims rest on unit energies, operation counts and a hardware model.
# This notebook shows the unit-energy table and the ratios ShiftAddNAS quotes (sa-fig1), what our cost
# model says about a floating-point multiplication vs a shift (bs-text-efficiency), reported ImageNet
# accuracy against our computed energy per model family (sa-fig6), and the computed params / MACs /
# #Mult / #Add / #Shift / energy / latency of every zoo model beside the papers' numbers (zoo-costs).
# Everything is computed by `repro.cost` (`python -m repro cost MODEL` gives the same numbers).

# %%
profile = None  # smoke | default | paper; None: $REPRO_PROFILE, else default
out_dir = None  # artifact folder; None: $REPRO_OUT, else build/figures-interactive (run-all passes figures/)

# %%
from repro.cost.eyeriss import HardwareConfig
from repro.experiments.hardware_costs import claims, figures, run, tables
from repro.notebook import setup

ctx = setup(profile, out_dir)
cfg = ctx.profile.cost
hw = HardwareConfig(bits=cfg.bits[0])
hw

# %% [markdown]
# ## sa-fig1 · Unit energies and the quoted ratios
# The 45nm entries are Horowitz's (ISSCC 2014), the shift entries the released code's; the FPGA
# column is the paper's, not verifiable from a public source. Each ratio of the text is traced to the
# pair of entries it comes from.

# %%
fig = figures.unit_energy_figure()
ctx.save_figure(fig, "sa-fig1")
ratios = tables.quoted_ratio_table()
ctx.save_table(ratios, "sa-fig1", caption="Energy ratios quoted by ShiftAddNAS (Sec. 3.1), traced to the unit-energy table")
ratios

# %%
swapped = ratios[ratios["platform in the text (reported)"] != ratios["platform of the pair"]]
ev1 = claims.unit_energy_evidence()
ctx.record("sa-fig1", measured=f"{int(ratios.matches.sum())}/{len(ratios)} quoted ratios reproduced from their pair "
           f"of table entries; {len(swapped)} of them come from the other platform than the sentence's 'respectively' "
           "says (31x, 4.1x and 24x are 45nm ratios, the two 196x and 47x FPGA ratios)", evidence=ev1,
           **{f"ratio_{i}_{r.reported}": r.ours for i, r in ratios.iterrows()})
print(f"sa-fig1: {ev1.verdict}: {ev1.reason}. {len(swapped)} of {len(ratios)} ratios sit on the other platform "
      "than the text's word order says.")

# %% [markdown]
# ## bs-text-efficiency · FP multiplication vs shift

# %%
eff = tables.efficiency_table(hw)
ctx.save_table(eff, "bs-text-efficiency", caption="FP multiplication vs shift: reported vs our cost model")
eff

# %%
power = eff.set_index("quantity")
ev_eff = claims.efficiency_evidence(eff)
ctx.record("bs-text-efficiency",
           measured=f"energy per op FP32 mult / 32-bit shift = {power.loc['average power', 'ours (x)']:.1f}x against the "
                    f"reported power ratio {power.loc['average power', 'reported (x)']:g}x (tolerance "
                    f"{claims.EFFICIENCY_REL_TOL:.0%}); cycles, area and transistors are outside our model; "
                    f"whole-network ResNet-50 / DeepShift-ResNet-50 energy = "
                    f"{power.loc['network energy (ResNet-50 vs DeepShift)', 'ours (x)']:.2f}x",
           evidence=ev_eff,
           energy_ratio_fp32=power.loc["average power", "ours (x)"],
           energy_ratio_8bit=power.loc["average power (8-bit)", "ours (x)"],
           network_ratio=power.loc["network energy (ResNet-50 vs DeepShift)", "ours (x)"])
print(f"bs-text-efficiency: {ev_eff.verdict}: {ev_eff.reason}")
saving = 1 - 1 / power.loc["network energy (ResNet-50 vs DeepShift)", "ours (x)"]
print(f"Per operation a shift costs {power.loc['average power', 'ours (x)']:.0f}x less energy than an FP32 "
      f"multiplication in our table; in a whole network the memory accesses dominate, so replacing the "
      f"multiplications of ResNet-50 by shifts saves {saving:.0%} of its energy in our dataflow model.")

# %% [markdown]
# ## zoo-costs · every zoo model, ours beside the papers'

# %%
zoo = run.zoo_costs(cfg.models, cfg.bits, hw)
ctx.save_table(zoo, "zoo-costs", caption="Zoo models: computed params / MACs / #Mult / #Add / #Shift / energy / "
               "latency beside the reported numbers (rel. diff = ours / reported - 1)")
shown = ["model", "resolution", "reported in"] + [c for c in zoo.columns if c.endswith(("(ours)", "(reported)", "diff"))
                                                  and c.split()[0] in ("params_M", "macs_G", "energy_mJ")]
zoo[shown].round(3)

# %%
diff = zoo.melt(id_vars=["model", "reported in"], value_vars=["params_M rel. diff", "macs_G rel. diff"]).dropna()
close = diff[diff.value.abs() <= 0.1]
far = diff[diff.value.abs() > 0.1].sort_values("value", key=abs, ascending=False)
print(f"{len(close)}/{len(diff)} reported params / MACs are within 10% of ours.")
if len(far):
    print(far.round(3).to_string(index=False))
big = zoo[zoo.model == "transformer-big"]
if len(big):
    r = big.iloc[0]
    bound = r["macs_G (ours)"] * 1e9 / hw.pes / (hw.clock_mhz * 1e3)
    print(f"Transformer-Big: {r['params_M (ours)']:.1f}M params, {2 * r['macs_G (ours)']:.2f} GFLOPs (reported 176M, "
          f"10.6G); energy {r['energy_mJ (ours)']:.0f} mJ (reported 214 mJ), latency {r['latency_ms (ours)']:.0f} ms "
          f"(reported 130 ms) where every PE busy would take {bound:.0f} ms: at {hw.bits} bits its 30-token linear "
          f"layers wait for their weights from DRAM.")
    rel = run.released_cost("transformer-big", hw)
    print(f"Under the released code's charging rules (--energy-model released): {rel['energy_mj']:.0f} mJ, "
          f"{rel['latency_ms']:.0f} ms (MACs / PEs at {hw.clock_mhz:.0f} MHz, no bandwidth term).")

# %% [markdown]
# Where and why the numbers differ: the standard CNNs and Transformers agree with the papers within the
# rounding of their tables. ViT-B/16 is printed at 384 pixels in ShiftAddNAS Table 4 with the MACs of a
# 224-pixel input (17.6G), so ours at 384 pixels is 3x larger. ShiftAddNAS-T0/T1 are our reading of the
# released encoding (one Shift block: fewer #Shift than reported, more #Mult). The bit-shift paper's
# "Add" column is about half our MACs for every network (ResNet-18/50 alike), a counting convention we
# could not pin down. Energy and latency are only reported for the NLP models; our dataflow model is
# our own and is not tuned to them.

# %% [markdown]
# ## sa-fig6 · Reported accuracy vs our energy, by model family

# %%
points = tables.accuracy_energy(zoo)
fig = figures.accuracy_energy_figure(points, cfg.bits[0])
ctx.save_figure(fig, "sa-fig6")
dom = tables.dominance(points)
dom.round(3)

# %% [markdown]
# ## sa-fig6 · Sensitivity: both energy models, RF accesses per MAC, 8 / 32 bits
# The claim is judged in every setting; it is robust only if every setting supports it.

# %%
spoints = run.sensitivity_points(cfg.energy_models, cfg.bits, cfg.rf_accesses, hw, cfg.models)
sens = tables.sensitivity_table(spoints)
ctx.save_table(sens, "sa-fig6", caption="sa-fig6 under both energy models, 8 / 32 bits and 1-8 RF accesses per MAC: "
               "baselines for which a ShiftAddNAS row is at least as accurate (reported) and cheaper (ours)")
ev6 = claims.sensitivity_evidence(sens)
held = int((sens.beaten == sens.baselines).sum())
ctx.record("sa-fig6",
           measured=f"a ShiftAddNAS model at least as accurate and cheaper exists for every baseline in {held}/{len(sens)} "
                    f"settings (energy models {', '.join(cfg.energy_models)}; {', '.join(map(str, cfg.bits))} bits; "
                    f"{', '.join(map(str, cfg.rf_accesses))} RF accesses/MAC); savings {sens['min saving'].min():.0%} to "
                    f"{sens['max saving'].max():.0%} (reported 24% to 93%); base setting (ours, {cfg.bits[0]}-bit, "
                    f"4 RF/MAC): {int((dom['energy saving'] > 0).sum())}/{len(dom)} baselines beaten",
           evidence=ev6, settings_held=held, settings=len(sens),
           min_saving=float(sens["min saving"].min()), max_saving=float(sens["max saving"].max()))
print(f"sa-fig6: {ev6.verdict}: every baseline is beaten in {held} of {len(sens)} settings.")
sens
