"""ShiftAddNAS on translation, the figures: Fig. 2 (both supernets, drawn from the space objects) and Fig. 5."""
from __future__ import annotations

import matplotlib.pyplot as plt

from repro.reported import load as load_reported
from repro.spaces.base import SearchSpace
from repro.spaces.shiftaddnas_nlp import DECODER_TYPES, ENCODER_TYPES, ShiftAddNASNLPSpace


def bleu_vs_flops(results: dict[str, dict], profile: str, scale: str) -> plt.Figure:
    """sa-fig5: our BLEU vs FLOPs (top row) and the paper's Table 3 points (bottom row, reported)."""
    rep = load_reported("sa-table3")
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    for col, (pair, lang) in enumerate((("en-fr", "En-Fr"), ("en-de", "En-De"))):
        ax = axes[0, col]
        for r in results.get(pair, {}).get("retrained", []):
            ax.scatter(r["flops"] / 1e6, r["bleu"], marker="*" if r["model"].startswith("searched") else "o", s=80,
                       label=r["model"])
        ax.set(title=f"ours: gettext {lang}, {profile} profile ({scale} scale)",
               xlabel="FLOPs (M)", ylabel="BLEU (test)")
        ax.legend(fontsize=7)
        ax = axes[1, col]
        for model, grp in rep.groupby("Model", sort=False):
            ax.scatter(grp[f"{lang} FLOPs (G)"], grp[f"{lang} BLEU"], label=model, s=40)
        ax.set(title=f"reported: WMT'14 {lang} (paper, Table 3)", xlabel="FLOPs (G)", ylabel="BLEU")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def supernets(nlp_space: ShiftAddNASNLPSpace, cv_space: SearchSpace) -> plt.Figure:
    """sa-fig2, drawn from the space objects: (a) the NLP encoder-decoder with the candidate blocks
    of every layer, optional decoder layers and arbitrary encoder-decoder attention; (b) the CV
    multi-resolution stages with their optional layers."""
    from repro.spaces.shiftaddnas_cv import BLOCK_TYPES as CV_TYPES

    d = nlp_space.dims
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1.1, 1]})
    colors = dict(zip(ENCODER_TYPES, plt.cm.tab10.colors))
    cell, gap = 0.42, 1.0

    def block(x0: float, y: float, types: tuple[str, ...], optional: bool) -> None:
        for i, t in enumerate(types):
            ax.add_patch(plt.Rectangle((x0 + i * cell, y), cell * 0.95, 0.6, color=colors[t],
                                       alpha=0.35 if optional else 0.9))
        ax.add_patch(plt.Rectangle((x0 - 0.05, y - 0.05), len(types) * cell + 0.05, 0.7, fill=False,
                                   ls="--" if optional else "-", lw=1))

    enc_x, dec_x = 0.0, 4.2
    for i in range(d.encoder_layers):
        block(enc_x, i * gap, ENCODER_TYPES, False)
        ax.text(enc_x - 0.15, i * gap + 0.3, f"enc {i + 1}", ha="right", va="center", fontsize=7)
    for j in range(d.max_decoder_layers):
        block(dec_x, j * gap, DECODER_TYPES, j + 1 > min(d.decoder_layers))
        ax.text(dec_x + len(DECODER_TYPES) * cell + 0.1, j * gap + 0.3, f"dec {j + 1}", va="center", fontsize=7)
        for k in range(1, max(d.arbitrary) + 1):
            src = (d.encoder_layers - k) * gap + 0.3
            ax.annotate("", (dec_x - 0.05, j * gap + 0.3), (enc_x + len(ENCODER_TYPES) * cell, src),
                        arrowprops={"arrowstyle": "->", "lw": 1.0, "color": "0.2", "alpha": 0.9 if k == 1 else 0.3})
    for t, c in colors.items():
        ax.scatter([], [], color=c, marker="s", label=t)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=7, frameon=False)
    ax.set_title(f"(a) NLP supernet: {d.encoder_layers} encoder blocks, {min(d.decoder_layers)}-"
                 f"{max(d.decoder_layers)} decoder blocks (dashed: optional);\nembed {list(d.embed)}, heads "
                 f"{list(d.heads)}, MLP {list(d.mlp)}; decoder attends to the last {list(d.arbitrary)} "
                 f"encoder blocks", fontsize=8)
    ax.set_xlim(-1.2, 7.2)
    ax.set_ylim(-0.5, max(d.encoder_layers, d.max_decoder_layers) * gap + 0.2)
    ax.axis("off")

    stages = cv_space.stages
    cv_colors = dict(zip(CV_TYPES, plt.cm.Set2.colors))
    layers = max(max(st.depths) for st in stages)
    for s, st in enumerate(stages):
        for k in range(max(st.depths)):
            optional = k + 1 > min(st.depths)
            for i, t in enumerate(CV_TYPES):
                bx.add_patch(plt.Rectangle((k + i * 0.22, -s), 0.2, 0.6, color=cv_colors[t],
                                           alpha=0.3 if optional else 0.9))
        if s:
            bx.annotate("", (0.45, -s + 0.62), (0.45, -s + 1.0), arrowprops={"arrowstyle": "->", "lw": 1.0})
        bx.text(-0.3, -s + 0.3, f"{st.resolution}²×{st.channels}\n{list(st.depths)} blocks", ha="right",
                va="center", fontsize=7)
    for t, c in cv_colors.items():
        bx.scatter([], [], color=c, marker="s", label=t)
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4, fontsize=7, frameon=False)
    bx.set_title("(b) CV supernet: multi-resolution stages (rows), one of 4 block types per layer;\n"
                 "a stage's first layer halves the resolution (arrows); faded: optional layers", fontsize=8)
    bx.set_xlim(-3.2, layers + 0.2)
    bx.set_ylim(-len(stages) + 0.3, 1.2)
    bx.axis("off")
    fig.tight_layout()
    return fig
