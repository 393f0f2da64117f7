"""ShiftAddNAS on translation, the tables: Tables 1, 3 and 6 and the space sizes of Sec. 3, our numbers
(from :mod:`.run`) beside the reported ones."""
from __future__ import annotations

import math

import pandas as pd
import torch

from repro.cost import zoo
from repro.reported import load as load_reported
from repro.spaces.base import SearchSpace
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace


def search_cost(supernets: dict[str, dict], searches: dict[str, list[dict]], profile: str, scale: str) -> pd.DataFrame:
    """sa-table6: the paper's GPU days (reported) beside our measured supernet-training and search
    wall-clock on this machine, per pair."""
    rows = [{"Method": r["Methods"], "Source": "reported (paper, one V100)", "Scale": "WMT'14, paper",
             "Supernet train (s)": None, "Search (s)": None, "Total (s)": None,
             "Search cost (days)": r["Search Cost (GPU days)"]}
            for r in load_reported("sa-table6").to_dict("records")]
    for pair, run in supernets.items():
        search_s = sum(s["wall_clock_s"] for s in searches[pair])
        total = run["wall_clock_s"] + search_s
        rows.append({"Method": f"ShiftAddNAS (ours, {pair})",
                     "Source": f"measured ({profile} profile, {torch.get_num_threads()} CPU threads)",
                     "Scale": f"{scale} space, {run['steps']} steps, {len(searches[pair])} searches",
                     "Supernet train (s)": run["wall_clock_s"], "Search (s)": search_s, "Total (s)": total,
                     "Search cost (days)": total / 86400})
    return pd.DataFrame(rows)


def table1(space: ShiftAddNASNLPSpace) -> pd.DataFrame:
    """sa-table1: the rows of Table 1 read from the space object beside the reported ones."""
    reported = {r["Searchable choice"]: r["Options"] for r in load_reported("sa-table1").to_dict("records")}
    rows = []
    for r in space.describe():
        ours = r["values"].replace("'", "")
        rep = reported.get(r["choice"], "")
        rows.append({"Searchable choice": r["choice"], "Ours (space object)": ours, "Reported": rep,
                     "Same": ours == rep if rep else None})
    return pd.DataFrame(rows)


def space_size(nlp_space: ShiftAddNASNLPSpace, cv_space: SearchSpace) -> pd.DataFrame:
    """sa-text-spacesize: our exact counts (with their conventions) beside the paper's 10^14 / 10^9."""
    reported = {r["Space"]: r["Subnets (approx.)"] for r in load_reported("sa-text-spacesize").to_dict("records")}
    rows = [{"Space": "NLP", "Convention": conv, "Subnets (ours)": str(n), "log10 (ours)": math.log10(n),
             "Reported (approx.)": reported["NLP"], "log10 (reported)": math.log10(reported["NLP"])}
            for conv, n in nlp_space.size_conventions().items()]
    n = cv_space.size()
    rows.append({"Space": "CV", "Convention": "per-stage depth, per-layer block type (CV space object)",
                 "Subnets (ours)": str(n), "log10 (ours)": math.log10(n), "Reported (approx.)": reported["CV"],
                 "log10 (reported)": math.log10(reported["CV"])})
    return pd.DataFrame(rows)


def table3(results: dict[str, dict], profile: str, scale: str) -> pd.DataFrame:
    """sa-table3: reported rows, our cost-model columns for Transformer-Big (paper scale, zoo), and
    our retrained rows at the profile's scale on the gettext corpus."""
    rep = load_reported("sa-table3")
    rows = []
    for r in rep.to_dict("records"):
        for pair, lang in (("en-fr", "En-Fr"), ("en-de", "En-De")):
            rows.append({"Pair": pair, "Model": r["Model"], "Source": "reported (paper, WMT'14)",
                         "Params (M)": r[f"{lang} Params (M)"], "FLOPs (G)": r[f"{lang} FLOPs (G)"],
                         "BLEU": r[f"{lang} BLEU"], "Latency (ms)": r[f"{lang} Latency (ms)"],
                         "Energy (mJ)": r[f"{lang} Energy (mJ)"]})
    big = zoo.cost("transformer-big", bits=32)
    rows.append({"Pair": "both", "Model": "Transformer", "Source": "computed (zoo transformer-big, Eyeriss model)",
                 "Params (M)": big["params"] / 1e6, "FLOPs (G)": big["flops"] / 1e9, "BLEU": None,
                 "Latency (ms)": big["latency_ms"], "Energy (mJ)": big["energy_mj"]})
    for pair, res in results.items():
        for r in res["retrained"]:
            rows.append({"Pair": pair, "Model": r["model"],
                         "Source": f"ours ({profile} profile, {scale} scale, gettext corpus)",
                         "Params (M)": r["params"] / 1e6, "FLOPs (G)": r["flops"] / 1e9, "BLEU": r["bleu"],
                         "Latency (ms)": r["latency_ms"], "Energy (mJ)": r["energy_mj"]})
    return pd.DataFrame(rows)

