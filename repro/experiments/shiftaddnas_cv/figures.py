"""ShiftAddNAS on images, the figures: Fig. 8's architecture grid."""
from __future__ import annotations

from repro.spaces import shiftaddnas_cv as space_module
from repro.spaces.base import Config
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace

#: Fig. 8's colour of each block type.
BLOCK_COLORS = {"Attn": "#4c72b0", "Conv": "#55a868", "Add": "#c44e52", "Shift": "#dd8452"}


def architecture(ax, config: Config, space: ShiftAddNASCVSpace, title: str) -> None:
    """Fig. 8 style: a stage x layer grid of block-type codes (0 Attn, 1 Conv, 2 Add, 3 Shift)."""
    import matplotlib.patches as mpatches

    space.validate(config)
    width = max(max(st.depths) for st in space.stages)
    for row, layers in enumerate(config["stages"]):
        for col, code in enumerate(layers):
            name = space_module.BLOCK_TYPES[code]
            ax.add_patch(mpatches.Rectangle((col, -row - 1), 0.95, 0.9, color=BLOCK_COLORS[name]))
            ax.text(col + 0.47, -row - 0.55, str(code), ha="center", va="center", color="white", fontsize=9)
    ax.set_yticks([-r - 0.55 for r in range(len(space.stages))],
                  [f"1/{space.dims.stem_stride * 2 ** i} ({st.resolution}²×{st.channels})"
                   for i, st in enumerate(space.stages)])
    ax.set_xticks([c + 0.47 for c in range(width)], [str(c + 1) for c in range(width)])
    ax.set(xlim=(0, width), ylim=(-len(space.stages), 0), xlabel="layer in stage", title=title)
    ax.grid(False)
    handles = [mpatches.Patch(color=c, label=f"{i} {n}") for i, (n, c) in
               enumerate((n, BLOCK_COLORS[n]) for n in space_module.BLOCK_TYPES)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=7, ncol=4, frameon=False)
