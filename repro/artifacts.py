"""The artifact registry: one entry per table and figure of the three papers (ARTIFACTS.md).

Each entry names the notebook that produces it, its output files (derived from its kind) and its
mode (exact / scaled / reported / diagram). A notebook writes the outputs with
:mod:`repro.outputs` and the result of the comparison with :func:`record`, which the report reads.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from repro import evidence as _evidence
from repro.paths import figures_dir

MODES = ("exact", "scaled", "reported", "diagram")
KINDS = ("figure", "table", "figure+table")
VERDICTS = _evidence.OUTCOMES + (_evidence.NOT_APPLICABLE,)
PAPERS = {
    "sa": "ShiftAddNAS (hybrid Conv/Attn/Shift/Add search, heterogeneous weight sharing)",
    "bs": "ShiftNAS: bit-shift networks searched with a DOTS-style strategy",
    "ps": "ShiftNAS: one-shot NAS with probability shift and an architecture generator",
}
NOTEBOOKS = (
    "00_data", "01_weight_distributions", "02_hardware_costs", "03_supernet_training",
    "04_search", "05_ablations", "06_shiftnas_bitshift", "07_probability_shift", "08_tables",
)


@dataclass(frozen=True)
class Artifact:
    """One table or figure of a paper."""
    id: str
    title: str
    source: str        # where it is in the paper: "Fig. 1", "Table 3", "Sec. 4.2 (text)"
    notebook: str      # the notebook (without .ipynb) that writes it
    kind: str          # figure | table | figure+table
    mode: str          # e.g. "reported + exact"; every word is one of MODES
    claim: str         # the paper's claim in one line

    @property
    def paper(self) -> str:
        return self.id.split("-")[0]

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.mode.split("+"))

    @property
    def outputs(self) -> tuple[str, ...]:
        """Files (relative to the figures folder) this artifact must have; the result record last."""
        files: list[str] = []
        if "figure" in self.kind:
            files += [f"{self.id}.png", f"{self.id}.pdf"]
        if "table" in self.kind:
            files += [f"{self.id}.csv", f"{self.id}.md", f"{self.id}.tex"]
        return tuple(files) + (f"results/{self.id}.json",)

    def present(self, out_dir: Path | None = None) -> bool:
        out = Path(out_dir or figures_dir())
        return all((out / f).exists() for f in self.outputs)


def _a(id, title, source, notebook, kind, mode, claim) -> Artifact:
    return Artifact(id, title, source, notebook, kind, mode, claim)


REGISTRY: tuple[Artifact, ...] = (
    # ShiftAddNAS
    _a("sa-fig1", "Unit energy of mult / add / shift (45nm ASIC, FPGA; FP32 / FIX32 / FIX8)", "Fig. 1",
       "02_hardware_costs", "figure+table", "exact",
       "Shifts and adds cost far less energy than multiplications (196x, 31x, 47x, 4.1x, 24x)."),
    _a("sa-fig2", "The NLP supernet (multi-branch blocks) and the CV supernet (multi-resolution)", "Fig. 2",
       "04_search", "figure", "diagram", "The hybrid supernets mix Attn, Conv, Shift and Add blocks."),
    _a("sa-table1", "NLP search space", "Table 1", "04_search", "table", "exact",
       "Block types, decoder depth, elastic widths and encoder-decoder attention of the NLP space."),
    _a("sa-table2", "CV search space", "Table 2", "04_search", "table", "exact",
       "Block types, stages, widths and depths of the CV space."),
    _a("sa-text-spacesize", "Search-space sizes", "Sec. 3.1 (text)", "04_search", "table", "exact",
       "The NLP space holds about 10^14 subnets and the CV space about 10^9."),
    _a("sa-fig3", "Weight distributions: Conv ~ Gaussian, Add ~ Laplacian", "Fig. 3",
       "01_weight_distributions", "figure+table", "scaled",
       "Conv weights follow a Gaussian, Add weights a Laplacian."),
    _a("sa-fig4", "Heterogeneous weight sharing and the learnable transformation kernel", "Fig. 4",
       "01_weight_distributions", "figure", "diagram + scaled",
       "A learnable transformation kernel maps shared Gaussian weights to Laplacian ones."),
    _a("sa-fig5", "BLEU vs FLOPs, WMT'14 En-Fr and En-De", "Fig. 5", "04_search", "figure",
       "reported + scaled", "ShiftAddNAS reaches a better BLEU/FLOPs trade-off than the baselines."),
    _a("sa-table3", "NLP results vs Transformer, Evolved Transformer, HAT, Lite Transformer", "Table 3",
       "04_search", "table", "reported + exact + scaled",
       "ShiftAddNAS gives higher BLEU at lower latency and energy than the baselines."),
    _a("sa-fig6", "ImageNet accuracy vs energy by model family", "Fig. 6", "02_hardware_costs", "figure",
       "reported + exact", "ShiftAddNAS models reach better accuracy at lower energy than each family."),
    _a("sa-table4", "ImageNet comparison: Top-1/Top-5, params, MACs, #Mult/#Add/#Shift", "Table 4",
       "04_search", "table", "reported + exact + scaled",
       "ShiftAddNAS is more accurate than CNN, Transformer and multiplication-free baselines."),
    _a("sa-table5", "Ablation: naive vs heterogeneous weight sharing", "Table 5", "05_ablations", "table",
       "scaled", "Heterogeneous weight sharing ranks subnets better (higher Kendall tau / Pearson / Spearman)."),
    _a("sa-text-supernetsize", "Supernet size without and with weight sharing", "Sec. 4.4 (text)",
       "04_search", "table", "exact", "Heterogeneous weight sharing shrinks the supernet from 615M to 364M (41%)."),
    _a("sa-table6", "Search cost, NLP", "Table 6", "03_supernet_training", "table", "reported + exact",
       "ShiftAddNAS search costs a similar number of GPU days to HAT."),
    _a("sa-table7", "Search cost, CV", "Table 7", "03_supernet_training", "table", "reported + exact",
       "ShiftAddNAS search costs fewer GPU days than the CV baselines."),
    _a("sa-table8", "Search cost breakdown: supernet training vs search", "Table 8", "03_supernet_training",
       "table", "reported + exact", "Supernet training dominates the search cost."),
    _a("sa-fig7", "Weight distributions in Conv / Add / Shift layers", "Fig. 7", "01_weight_distributions",
       "figure", "scaled", "Conv weights are Gaussian, Add weights Laplacian, Shift weights discrete."),
    _a("sa-fig8", "The searched architecture (stage x layer grid of block types)", "Fig. 8", "04_search",
       "figure", "diagram", "The searched CV model mixes block types by stage."),
    # ShiftNAS, bit-shift
    _a("bs-fig1", "Method overview", "Fig. 1", "06_shiftnas_bitshift", "figure", "diagram",
       "Operation search, then topology search, in the bit-shift domain."),
    _a("bs-table1", "CIFAR-10/100: accuracy, params, search cost", "Table 1", "06_shiftnas_bitshift", "table",
       "reported + scaled", "ShiftNAS cells beat DARTS-strategy and hand-designed shift networks."),
    _a("bs-table2", "ImageNet: Top-1/Top-5, params, #Mult, #Add", "Table 2", "06_shiftnas_bitshift", "table",
       "reported + exact", "ShiftNAS on ImageNet beats shift baselines with no multiplications."),
    _a("bs-table3", "Real vs bit-shift domain accuracy and the drop", "Table 3", "06_shiftnas_bitshift",
       "table", "reported + scaled", "ShiftNAS cells lose less accuracy from real to bit-shift domain."),
    _a("bs-table4", "Ablation of modified L2 (L2R) and learning-rate reset (LRR)", "Table 4",
       "06_shiftnas_bitshift", "table", "reported + scaled", "Both L2R and LRR raise accuracy; LRR more."),
    _a("bs-fig2", "Learning-rate curve with the reset at the topology search", "Fig. 2",
       "06_shiftnas_bitshift", "figure", "exact", "The learning rate resets to its initial value at the topology phase."),
    _a("bs-fig3", "Normal cells: DARTS strategy (skip-dominated) vs ShiftNAS", "Fig. 3",
       "06_shiftnas_bitshift", "figure", "scaled + diagram",
       "DARTS in the bit-shift domain collapses to skip connections; ShiftNAS does not."),
    _a("bs-fig4", "Search accuracy with and without LRR", "Fig. 4", "06_shiftnas_bitshift", "figure",
       "scaled", "The learning-rate reset improves the search accuracy trace."),
    _a("bs-table5", "Best genotype for CIFAR-10", "Table 5", "06_shiftnas_bitshift", "figure+table",
       "reported + diagram", "The genotype of the best CIFAR-10 cell."),
    _a("bs-table6", "Best genotype for CIFAR-100", "Table 6", "06_shiftnas_bitshift", "figure+table",
       "reported + diagram", "The genotype of the best CIFAR-100 cell."),
    _a("bs-fig5", "Training accuracy curves (CIFAR)", "Fig. 5", "06_shiftnas_bitshift", "figure", "scaled",
       "The searched bit-shift networks train to high accuracy."),
    _a("bs-fig6", "Training accuracy curves (ImageNet, batch 1024 vs 256)", "Fig. 6", "06_shiftnas_bitshift",
       "figure", "reported + scaled", "A smaller batch trains the bit-shift network to higher accuracy."),
    _a("bs-table7", "ImageNet real vs bit-shift", "Table 7", "08_tables", "table", "reported",
       "ShiftNAS loses little accuracy from real to bit-shift domain on ImageNet."),
    _a("bs-text-efficiency", "FP multiplication vs shift efficiency", "Sec. 5.5 (text)", "02_hardware_costs",
       "table", "exact", "A shift beats an FP multiplication by >=5x cycles, 9.7x power, 1.45x area, 4.32x transistors."),
    # ShiftNAS, probability shift
    _a("ps-fig1", "Conceptual overview", "Fig. 1", "07_probability_shift", "figure", "diagram",
       "FLOPs bins, a learnable distribution over them, and a generator that samples inside a bin."),
    _a("ps-fig2", "Uniform sampling and the near-normal FLOPs of sampled subnets", "Fig. 2",
       "07_probability_shift", "figure", "exact", "Uniform per-operation sampling gives near-normal (Irwin-Hall) subnet FLOPs."),
    _a("ps-fig3", "Architecture-generator training", "Fig. 3", "07_probability_shift", "figure", "diagram",
       "An LSTM emits Gumbel-softmax one-hot policies mapped to prefix masks."),
    _a("ps-table1", "ImageNet results of ShiftFormer / ShiftCNN vs baselines", "Table 1",
       "07_probability_shift", "table", "reported + exact", "ShiftFormer and ShiftCNN beat baselines at similar FLOPs."),
    _a("ps-fig4", "FLOPs/accuracy with and without probability shift", "Fig. 4", "07_probability_shift",
       "figure", "scaled", "Probability shift improves the FLOPs/accuracy trade-off of the supernet."),
    _a("ps-table2", "Inherited vs finetuned vs retrained accuracy", "Table 2", "07_probability_shift",
       "table", "scaled", "Finetuning does not improve inherited subnets; retraining helps slightly."),
    _a("ps-fig5", "Learned sampling probability per FLOPs group", "Fig. 5", "07_probability_shift", "figure",
       "scaled", "Larger subnets receive more sampling probability."),
    _a("ps-fig6", "Ranking correlation of the architecture generator", "Fig. 6", "07_probability_shift",
       "figure", "scaled", "Inherited accuracy correlates with finetuned accuracy for good subnets."),
    _a("ps-table3", "Training configurations", "Table 3", "07_probability_shift", "table", "exact",
       "The training settings of the ViT and CNN supernets."),
    _a("ps-table4", "Kendall tau between the distribution gradient and training sufficiency", "Table 4",
       "07_probability_shift", "table", "scaled", "The distribution gradient tracks training sufficiency after warm-up."),
    _a("ps-fig7", "Effect of the FLOPs split step", "Fig. 7", "07_probability_shift", "figure", "scaled",
       "A 0.1 GFLOPs step works best."),
    _a("ps-fig8", "Effect of the distribution update frequency", "Fig. 8", "07_probability_shift", "figure",
       "scaled", "More frequent updates give better subnets."),
    _a("ps-fig9", "Sampling time: generator vs rejection sampling", "Fig. 9", "07_probability_shift",
       "figure", "exact", "The generator samples a subnet in a target bin hundreds to thousands of times faster."),
    _a("ps-table5", "Comparison with AttentiveNAS", "Table 5", "08_tables", "table", "reported",
       "ShiftCNN beats AttentiveNAS at comparable FLOPs."),
    _a("ps-table6", "Segmentation transfer (ADE20k)", "Table 6", "08_tables", "table", "reported",
       "A ShiftFormer-B backbone transfers to segmentation better than ViT-Base."),
    _a("ps-fig10", "Searched architectures", "Fig. 10", "07_probability_shift", "figure", "diagram",
       "The searched ShiftFormer and ShiftCNN architectures."),
)

_BY_ID = {a.id: a for a in REGISTRY}


def get(artifact_id: str) -> Artifact:
    """The registry entry of one id; an unknown id lists the valid ones."""
    try:
        return _BY_ID[artifact_id]
    except KeyError:
        raise KeyError(f"unknown artifact id {artifact_id!r}; valid ids: {', '.join(_BY_ID)}") from None


def for_notebook(notebook: str) -> list[Artifact]:
    return [a for a in REGISTRY if a.notebook == notebook]


def record(artifact_id: str, measured: str, evidence: "evidence.Evidence", *,
           out_dir: Path | None = None, profile: str | None = None, **numbers: float) -> Path:
    """Write what our run measured for an artifact and the evidence rule's verdict on the paper's claim.

    The verdict and its reason come from ``evidence`` (:mod:`repro.evidence`), never from the caller;
    ``numbers`` are the key values (for example ``kendall_tau=0.41``). Scaled artifacts must carry an
    interval (``n >= 2``) or a failed gate, or be labelled *by construction*.
    """
    art = get(artifact_id)
    if not isinstance(evidence, _evidence.Evidence):
        raise TypeError(f"{artifact_id}: record() needs an Evidence from repro.evidence, got {type(evidence).__name__}")
    ev = evidence
    if "scaled" in art.mode and ev.verdict in (_evidence.HOLDS, _evidence.DOES_NOT_HOLD, _evidence.INCONCLUSIVE) \
            and ev.n < 2 and ev.direction != "within":  # "within": an exact comparison (one number vs the paper's)
        raise ValueError(f"{artifact_id} is scaled: its verdict needs an interval over n >= 2, got n = {ev.n}")
    path = Path(out_dir or figures_dir()) / "results" / f"{art.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"id": art.id, "mode": art.mode, "claim": art.claim, "measured": measured,
               "verdict": ev.verdict, "reason": ev.reason, "profile": profile, "numbers": numbers,
               "evidence": ev.to_dict()}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=float) + "\n")
    tmp.replace(path)
    return path


def load_result(artifact_id: str, out_dir: Path | None = None) -> dict | None:
    path = Path(out_dir or figures_dir()) / "results" / f"{artifact_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def as_rows(out_dir: Path | None = None) -> list[dict]:
    """The registry as plain dicts, with ``outputs`` and ``present`` (every output file exists)."""
    rows = []
    for a in REGISTRY:
        row = asdict(a)
        row.update(paper=a.paper, outputs=list(a.outputs), present=a.present(out_dir))
        rows.append(row)
    return rows
