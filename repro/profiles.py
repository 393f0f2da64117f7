"""Run profiles, validated on construction, all in one place.

``smoke``: each notebook well under 2 minutes on 2 CPU cores (CI runs it through nbval).
``default``: the whole series within 120 minutes on 2 CPU cores, real experiments at reduced scale.
``gpu``: one modern GPU, each study within about 15 minutes, on the embedded datasets (results in
``figures/gpu/``).
``paper``: the papers' own settings, for GPUs and user-supplied datasets; each value beside its
source (paper section or table, or the released code where the paper is silent). ``gpus`` is the
number of GPUs a paper's global batch assumes: with fewer processes the engine accumulates
``gpus / world`` micro-batches per step, so the global batch stays the paper's.

A profile is a :class:`Profile` holding one section per area of the library. A notebook reads
``ctx.profile.<section>.<field>``; its ``parameters`` cell can override single fields with
``overrides={"section.field": value}``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields, replace
from typing import Any


class ConfigError(ValueError):
    """An invalid configuration: an unknown key or a value out of range."""


def _check(cfg: Any) -> None:
    """Reject negative numbers in a section (counts, sizes, rates are all >= 0)."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"{type(cfg).__name__}.{f.name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Section:
    """Base of every profile section: validated on construction."""

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True)
class DataConfig(Section):
    """Dataset sizes and paths. Paths are ``None`` unless the user supplies them (``paper`` profile)."""
    fashion_train_subset: int = 0  # 0 = the full 60k training set
    fashion_test_subset: int = 0   # 0 = the full 10k test set
    corpus_max_pairs: int = 0      # 0 = all pairs of the translation corpus
    spm_vocab_size: int = 8000
    cifar_root: str | None = None
    imagenet_root: str | None = None
    wmt14_root: str | None = None
    workers: int = 0               # DataLoader worker processes of the torchvision pipelines (paper: 8 per GPU)


@dataclass(frozen=True)
class WeightsConfig(Section):
    """Notebook 01: weight distributions of Conv / Add / Shift networks, the transformation kernel."""
    train_subset: int = 0           # 0 = all 60,000: one epoch passes the 84% gate in every network (measured)
    test_subset: int = 0            # 0 = the full 10,000-image test set
    epochs: int = 1                 # about 2.7 min for the three networks at one thread (an Add step ~2x a Conv step)
    batch_size: int = 128
    width: int = 16
    lr: float = 0.05               # SGD, cosine (paper: training recipe of Fig. 3 / 7 not stated)
    momentum: float = 0.9          # SGD momentum (paper: not stated; the common 0.9)
    kernel_fit_steps: int = 300
    kernel_samples: int = 20000


@dataclass(frozen=True)
class CostConfig(Section):
    """Notebook 02: cost models (exact, same in every profile except the zoo subset)."""
    bits: tuple[int, ...] = (32, 8)   # operand precisions of the dataflow model; the first is the main one
    models: tuple[str, ...] = ()      # zoo models of the zoo-costs table; () = all of them
    energy_models: tuple[str, ...] = ("ours", "released")  # sa-fig6 sensitivity (repro.cost.eyeriss)
    rf_accesses: tuple[int, ...] = (1, 2, 4, 8)  # RF accesses per MAC, sa-fig6 sensitivity (our assumption: 4)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.bits or any(b not in (8, 32) for b in self.bits):
            raise ConfigError(f"CostConfig.bits must be a non-empty tuple of 8 and/or 32, got {self.bits!r}")
        if not self.energy_models or any(m not in ("ours", "released") for m in self.energy_models):
            raise ConfigError(f"CostConfig.energy_models must be a non-empty tuple of 'ours' and/or 'released', "
                              f"got {self.energy_models!r}")
        if not self.rf_accesses or any(not isinstance(k, int) or k < 1 for k in self.rf_accesses):
            raise ConfigError(f"CostConfig.rf_accesses must be a non-empty tuple of integers >= 1, got {self.rf_accesses!r}")


@dataclass(frozen=True)
class SupernetConfig(Section):
    """Notebooks 03-05, CV: the ShiftAddNAS CV supernet, evolutionary search, the sharing ablation."""
    scale: str = "tiny"          # "tiny" | "small" | "paper": how the Table 2 dims are shrunk
    steps: int = 500             # one-shot steps (one sampled subnet each)
    batch_size: int = 64
    lr: float = 1e-3             # AdamW, linear warmup from 1e-7 then cosine (paper: 1e-3, DeiT's at batch 1024)
    kernel_lr: float = 0.05      # peak lr of the kernels' alphas (Eq. 6), same warmup + cosine, no weight decay. The
    # paper states none; the released code trains them in the supernet's single group at its lr. Our choice: the
    # standalone kernel fit's Adam lr (fit_kernel); at the supernet's 1e-3 the alphas stayed in 0.94-1.07
    val_size: int = 1000         # training images held out for the search fitness
    calib_batches: int = 4       # BatchNorm recalibration batches per inherited evaluation
    search_iterations: int = 4
    population: int = 12
    ablation_subnets: int = 12   # x 2 ground-truth seeds; 20 does not fit the budget (one is ~17 s at one thread)
    standalone_steps: int = 100
    predictor_samples: int = 300  # subnets whose cost-model latency trains / tests the latency predictor
    predictor_hidden: int = 64    # latency predictor's MLP width, 3 layers (paper, after HAT: 400)
    predictor_epochs: int = 300   # full-batch Adam epochs (HAT's released code: 5000 steps of 128)
    predictor_lr: float = 5e-3    # Adam (HAT's released code: 1e-5)
    weight_decay: float = 0.0    # AdamW (paper: DeiT's 0.05, Sec. 4.1 "the same recipe as DeiT")
    image_size: int = 0          # ImageNet training crop at paper scale; 0 = the space's 224 (the nets are convolutional)
    gpus: int = 1                # paper: 8 (DeiT: 8 GPUs x 128 images = global batch 1024)
    ema_decay: float = 0.0       # weight EMA of the retraining, 0 = none (paper: DeiT's 0.99996, kept by the released
    # retraining, which evaluates the raw weights: the retrain study reports both)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"SupernetConfig.ema_decay must lie in [0, 1), got {self.ema_decay!r}")


@dataclass(frozen=True)
class NlpConfig(Section):
    """Notebooks 03-04, NLP: the ShiftAddNAS encoder-decoder supernet on the translation corpus.

    ``steps`` / ``retrain_steps``: supernet / subnet training steps (Adam, ``lr`` after ``warmup_steps``
    of linear warmup, then cosine; Sec. 4.1); ``budget_fractions``: FLOPs budgets of the searches as
    fractions of the space's plain Transformer; ``fitness_pairs``: validation pairs scoring a subnet;
    ``retrain_subnets``: searched subnets retrained from scratch (the first budgets); ``max_tokens``:
    subwords kept per sentence side; ``test_pairs``: test pairs scored by BLEU (0: all).
    """
    scale: str = "tiny"          # "tiny" | "small" | "paper": how the Table 1 dims are shrunk
    steps: int = 200
    batch_size: int = 32
    search_iterations: int = 3
    population: int = 10
    retrain_steps: int = 150
    lr: float = 1e-3             # AdamW, linear warmup from 1e-7 then cosine (paper: 1e-3, Sec. 4.1 after HAT)
    warmup_steps: int = 20
    dropout: float = 0.1
    label_smoothing: float = 0.1  # of the training loss (HAT's released recipe: 0.1)
    budget_fractions: tuple[float, ...] = (0.2, 0.35)
    fitness_pairs: int = 128
    retrain_subnets: int = 1
    max_tokens: int = 48
    test_pairs: int = 600
    gpus: int = 1                # paper: 8 (HAT's V100 setup: 8 GPUs x 4096 tokens per step)

    def __post_init__(self) -> None:
        super().__post_init__()
        scales = ("tiny", "small", "paper")
        if self.scale not in scales:
            raise ConfigError(f"NlpConfig.scale {self.scale!r} unknown; valid scales: {scales}")
        if not self.budget_fractions or not all(0 < f <= 1 for f in self.budget_fractions):
            raise ConfigError(f"NlpConfig.budget_fractions must be fractions in (0, 1], got {self.budget_fractions}")
        if self.retrain_subnets > len(self.budget_fractions):
            raise ConfigError(f"NlpConfig.retrain_subnets ({self.retrain_subnets}) exceeds the number of budgets "
                              f"({len(self.budget_fractions)})")


@dataclass(frozen=True)
class BitshiftConfig(Section):
    """Notebook 06: ShiftNAS bit-shift DOTS search and its ablations (paper: Sec. 5.1, Appendix A-B)."""
    dataset: str = "fashion_mnist"  # fashion_mnist | cifar10 | cifar100
    image_size: int = 7             # Fashion-MNIST is average-pooled to this size (28 = as is)
    train_subset: int = 800         # 0 = the whole training set (split in halves for the search)
    test_subset: int = 500          # 0 = the whole test set
    warmup_epochs: int = 1          # search stage 1, weights only (paper/DOTS 15 of 70)
    op_epochs: int = 1              # stage 2, operation search (paper/DOTS 15)
    retrain_epochs: int = 1         # stage 3, re-initialised pruned network, no beta updates (paper/DOTS 20)
    topo_epochs: int = 2            # stage 4, annealed topology search (paper/DOTS 20): T anneals over 2 epochs
    eval_image_size: int = 7        # the evaluation trainings (searched cells, ResNet-20): input size (28 = as is)
    eval_train_subset: int = 800    # their training images, 0 = all (paper: all 50k; the search splits them in halves)
    eval_test_subset: int = 500     # their test images, 0 = all (paper: all 10k)
    eval_epochs: int = 3            # training of the searched cells (paper 200)
    drift_image_size: int = 14      # bs-table4's L2R mechanism check (the bit-shift ResNet-20 trained twice):
    drift_train_subset: int = 10_000  # input size, training images (0 = all), test images (0 = all), epochs;
    drift_test_subset: int = 0      # 14x14, 10,000 images, 5 epochs pass the accuracy gate (measured). The paper
    drift_epochs: int = 5           # has no such check (paper profile: its evaluation training, Appendix B)
    search_channels: int = 4        # paper 16
    search_layers: int = 3          # paper 8 cells
    eval_channels: int = 8          # paper 36
    eval_layers: int = 5            # paper 20 cells
    resnet_width: int = 8           # hand-designed ResNet-20 stage widths w, 2w, 4w (paper 16)
    batch_size: int = 64            # paper 128; bs-fig6 compares 4x this batch
    drop_path: float = 0.0          # paper 0.2
    arch_lr: float = 0.03           # Adam lr of alpha, beta (paper 3e-4 over ~100x more steps)
    lr: float = 0.1                 # RAdam lr of the weights (paper 0.01 over ~1000x more steps: P, S must move)
    weight_decay: float = 3e-4      # of the weights, Eq. 15 on P and S, search and training (paper 3e-4, Appendix B)
    fixed_point: bool = False       # 16.16 fixed-point inputs of the shift convolutions (paper: yes)
    gpus: int = 1                   # paper: 1 (Sec. 5.1: one GeForce RTX 3090)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gpus < 1:
            raise ConfigError(f"BitshiftConfig.gpus must be >= 1, got {self.gpus}")
        if self.dataset not in ("fashion_mnist", "cifar10", "cifar100"):
            raise ConfigError(f"BitshiftConfig.dataset {self.dataset!r}; valid: fashion_mnist, cifar10, cifar100")


@dataclass(frozen=True)
class ProbShiftConfig(Section):
    """Notebook 07: probability shift and the architecture generator (ShiftNAS-PS).

    Bins are given in ViT-T GFLOPs (the paper's 1.3-1.9 G split, 0.1 G step) and mapped linearly
    onto the scaled space's FLOPs range; ``update_every`` is q (the paper: 100 iterations).
    """
    space: str = "T-fashion"
    cnn_space: str = "cnn-fashion"  # Fig. 4's CNN panel (repro.spaces.bignas_cnn; smoke, default, gpu: this one)
    train_subset: int = 1920
    val_subset: int = 1000
    test_subset: int = 1000
    epochs: int = 3
    warmup_epochs: int = 1
    batch_size: int = 64
    update_every: int = 5
    bin_width: float = 0.1
    lr: float = 2e-3               # AdamW, supernet (paper Table 3, ViT: 1e-3)
    weight_decay: float = 0.05     # (paper Table 3, ViT: 5e-2)
    generator_lr: float = 1e-3     # Adam, the generator (paper: not stated)
    generator_warm_lr: float = 3e-3  # Adam, the generator on the resource loss alone (paper: not stated)
    distribution_lr: float = 0.1   # Adam, B (paper: 1e-3 over ~5,000 updates; ~15 updates here)
    finetune_lr: float = 5e-4      # AdamW, finetuning inherited subnets (paper: not stated)
    generator_warm_steps: int = 300
    fig2_samples: int = 10000
    rank_subnets: int = 6
    finetune_steps: int = 10
    timing_draws: int = 200        # Fig. 9: generator draws per bin at batch 1
    timing_batch: int = 256        # Fig. 9: targets per batched generator forward
    score_batch: int = 256         # Table 4: validation images per score and sufficiency loss
    hit_samples: int = 50
    gpus: int = 1                  # paper: 8 (Sec. 4.1: 8 Tesla A100; Table 3's batch 1024 = 8 x 128)


@dataclass(frozen=True)
class Profile:
    """One run profile: a name, the seed, the per-notebook timeout, and one section per area."""
    name: str
    seed: int = 0
    #: Seeds of a scaled claim (paired across its arms): seed, seed + 1, ... (evidence issue: smoke 2, else >= 3).
    seeds: int = 3
    notebook_timeout_s: int | None = 600
    data: DataConfig = field(default_factory=DataConfig)
    weights: WeightsConfig = field(default_factory=WeightsConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    supernet: SupernetConfig = field(default_factory=SupernetConfig)
    nlp: NlpConfig = field(default_factory=NlpConfig)
    bitshift: BitshiftConfig = field(default_factory=BitshiftConfig)
    probshift: ProbShiftConfig = field(default_factory=ProbShiftConfig)

    def __post_init__(self) -> None:
        if self.name not in PROFILE_NAMES:
            raise ConfigError(f"unknown profile {self.name!r}; valid profiles: {', '.join(PROFILE_NAMES)}")
        if not (isinstance(self.seeds, int) and self.seeds >= 1):
            raise ConfigError(f"profile {self.name!r}: seeds must be an integer >= 1, got {self.seeds!r}")

    @property
    def seed_list(self) -> tuple[int, ...]:
        """The seeds every scaled claim runs over (paired across arms)."""
        return tuple(range(self.seed, self.seed + self.seeds))

    def override(self, overrides: dict[str, Any] | None) -> "Profile":
        """A copy with ``{"section.field": value}`` overrides; an unknown key names the valid ones."""
        prof = self
        for key, value in (overrides or {}).items():
            section, _, name = key.partition(".")
            sections = [f.name for f in fields(self) if dataclasses.is_dataclass(getattr(self, f.name))]
            if not name:
                if section not in ("seed", "seeds", "notebook_timeout_s"):
                    raise ConfigError(f"unknown override {key!r}; valid: seed, seeds, notebook_timeout_s, "
                                      f"or SECTION.FIELD with SECTION in {sections}")
                prof = replace(prof, **{section: value})
                continue
            if section not in sections:
                raise ConfigError(f"unknown profile section {section!r} in {key!r}; valid sections: {sections}")
            sub = getattr(prof, section)
            valid = [f.name for f in fields(sub)]
            if name not in valid:
                raise ConfigError(f"unknown field {name!r} of section {section!r}; valid fields: {valid}")
            prof = replace(prof, **{section: replace(sub, **{name: value})})
        return prof

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PROFILE_NAMES = ("smoke", "default", "gpu", "paper")


def _profiles() -> dict[str, Profile]:
    return {
        "smoke": Profile(
            name="smoke",
            seeds=2,
            notebook_timeout_s=600,
            data=DataConfig(fashion_train_subset=2000, fashion_test_subset=500, corpus_max_pairs=2000,
                            spm_vocab_size=1000),
            weights=WeightsConfig(train_subset=640, test_subset=320, epochs=1, width=8, kernel_fit_steps=40,
                                  kernel_samples=4000),
            cost=CostConfig(models=("transformer-big", "resnet50", "addernet-resnet50", "deepshift-resnet50",
                                    "deit-small", "shiftaddnas-t0")),
            supernet=SupernetConfig(scale="tiny", steps=20, batch_size=32, val_size=200, calib_batches=1,
                                    search_iterations=2, population=6, ablation_subnets=4, standalone_steps=20,
                                    predictor_samples=50),
            nlp=NlpConfig(scale="tiny", steps=20, batch_size=16, search_iterations=2, population=6,
                          retrain_steps=20, warmup_steps=5, fitness_pairs=64, test_pairs=100),
            bitshift=BitshiftConfig(image_size=7, train_subset=64, test_subset=100, warmup_epochs=1, op_epochs=1,
                                    retrain_epochs=1, topo_epochs=1, eval_image_size=7, eval_train_subset=64,
                                    eval_test_subset=100, eval_epochs=1, drift_image_size=7, drift_train_subset=64,
                                    drift_test_subset=100, drift_epochs=1, search_channels=2,
                                    search_layers=3, eval_channels=4, eval_layers=3, resnet_width=4, batch_size=32,
                                    arch_lr=0.03, lr=0.1),
            probshift=ProbShiftConfig(train_subset=512, val_subset=128, test_subset=256, epochs=1, warmup_epochs=0,
                                      update_every=2, generator_warm_steps=40, fig2_samples=2000, rank_subnets=4,
                                      finetune_steps=2, timing_draws=20, timing_batch=32, score_batch=64,
                                      hit_samples=10),
        ),
        "default": Profile(
            name="default",
            notebook_timeout_s=3600,
            data=DataConfig(fashion_train_subset=0, fashion_test_subset=0, corpus_max_pairs=0,
                            spm_vocab_size=8000),
        ),
        "gpu": Profile(
            # One modern GPU, each study within about 15 minutes (sizes chosen from CPU step times and
            # the usual CPU/GPU ratio of these small layers; not yet measured on a GPU).
            name="gpu",
            notebook_timeout_s=3600,
            data=DataConfig(workers=4),
            weights=WeightsConfig(train_subset=0, test_subset=0, epochs=10, width=32, kernel_fit_steps=1000,
                                  kernel_samples=50_000),
            supernet=SupernetConfig(scale="small", steps=6000, batch_size=128, search_iterations=10,
                                    population=30, ablation_subnets=20, standalone_steps=2000),
            nlp=NlpConfig(scale="small", steps=8000, batch_size=64, retrain_steps=8000, warmup_steps=500,
                          search_iterations=10, population=40, test_pairs=0),
            bitshift=BitshiftConfig(image_size=28, train_subset=10_000, test_subset=0, warmup_epochs=3,
                                    op_epochs=3, retrain_epochs=4, topo_epochs=4, eval_image_size=28,
                                    eval_train_subset=0, eval_test_subset=0, eval_epochs=20, drift_image_size=28,
                                    drift_train_subset=0, drift_epochs=20,
                                    search_channels=8, search_layers=5, eval_channels=16, eval_layers=8,
                                    resnet_width=16, batch_size=128, arch_lr=3e-3, lr=0.03),
            probshift=ProbShiftConfig(train_subset=0, val_subset=5000, test_subset=0, epochs=30, warmup_epochs=5,
                                      batch_size=256, update_every=20, generator_warm_steps=1000,
                                      rank_subnets=20, finetune_steps=100),
        ),
        "paper": Profile(
            name="paper",
            notebook_timeout_s=None,
            # HAT's WMT'14 joint BPE vocabulary is 32k; paper: 8 loader workers per GPU (DeiT's --num_workers 10).
            data=DataConfig(spm_vocab_size=32000, workers=8),
            weights=WeightsConfig(train_subset=0, test_subset=0, epochs=20, width=64, kernel_fit_steps=2000,
                                  kernel_samples=100_000),
            # Sec. 4.1: "the same recipe and hyperparameters as DeiT": 300 epochs of 1251 steps at a global
            # batch of 1024 (8 GPUs x 128), AdamW lr 1e-3 (5e-4 x 1024 / 512), weight decay 0.05, warm-up
            # 5 epochs (our warm-up is steps // 10), label smoothing 0.1 with Mixup / CutMix, 224 x 224 inputs;
            # evolutionary search 20 iterations, population 50 (Sec. 4.1, AutoFormer's settings).
            supernet=SupernetConfig(scale="paper", steps=375_300, batch_size=128, search_iterations=20,
                                    population=50, ablation_subnets=25, standalone_steps=375_300,
                                    weight_decay=0.05, gpus=8, ema_decay=0.99996),
            # Sec. 4.1 / HAT: 40k steps for the supernet and for each retraining, Adam with linear warm-up
            # from 1e-7 to 1e-3 (HAT: 10k warm-up steps), cosine; 4096 tokens per GPU on 8 GPUs
            # (batch_size counts tokens at this scale); dropout 0.1 (HAT's WMT'14 En-De setting),
            # search: 30 iterations, population 125 (Sec. 4.1).
            nlp=NlpConfig(scale="paper", steps=40_000, batch_size=4096, search_iterations=30,
                          population=125, retrain_steps=40_000, warmup_steps=10_000, fitness_pairs=100_000,
                          budget_fractions=(0.15, 0.25, 0.35, 0.42), retrain_subnets=4, max_tokens=256,
                          test_pairs=0, gpus=8),
            # ShiftNAS bit-shift Sec. 5.1 / Appendix A: CIFAR-10, search 70 epochs (15 + 15 + 20 + 20, DOTS),
            # 8 cells of 16 channels, batch 128, RAdam lr 0.01, Adam 3e-4 for alpha / beta; evaluation 200
            # epochs, 20 cells of 36 channels, drop path 0.2, cutout; one RTX 3090.
            bitshift=BitshiftConfig(dataset="cifar10", image_size=32, train_subset=0, test_subset=0,
                                    warmup_epochs=15, op_epochs=15, retrain_epochs=20, topo_epochs=20,
                                    eval_image_size=32, eval_train_subset=0, eval_test_subset=0, eval_epochs=200,
                                    drift_image_size=32, drift_train_subset=0, drift_epochs=200, search_channels=16, search_layers=8, eval_channels=36,
                                    eval_layers=20, resnet_width=16, batch_size=128, drop_path=0.2, arch_lr=3e-4,
                                    lr=0.01, fixed_point=True, gpus=1),
            # ShiftNAS-PS Sec. 4.1 and Table 3 (ViT): ImageNet, AutoFormer's ViT-T space, 500 epochs, global
            # batch 1024 on 8 A100 (8 x 128), AdamW lr 1e-3, weight decay 0.05, RandAugment / Mixup / CutMix /
            # random erasing; 50k training images held out for B; B: Adam 1e-3, updated every 100 iterations
            # after 50 warm-up epochs. The CNN panel stays on the scaled cnn-fashion space (Fashion-MNIST): the
            # paper's ShiftCNN space is BigNAS's on ImageNet (7 stages of MBConv), which the project does not build.
            probshift=ProbShiftConfig(space="T", train_subset=0, val_subset=50_000, test_subset=0, epochs=500,
                                      warmup_epochs=50, batch_size=128, update_every=100, generator_warm_steps=2000,
                                      fig2_samples=100_000, rank_subnets=30, finetune_steps=1000,
                                      lr=1e-3, distribution_lr=1e-3, timing_draws=2000, gpus=8,
                                      cnn_space="cnn-fashion"),
        ),
    }


def get_profile(name: str | Profile | None = None, overrides: dict[str, Any] | None = None) -> Profile:
    """The named profile (``None``: ``$REPRO_PROFILE`` or ``default``), with optional overrides."""
    import os

    if isinstance(name, Profile):
        return name.override(overrides)
    name = name or os.environ.get("REPRO_PROFILE") or "default"
    table = _profiles()
    if name not in table:
        raise ConfigError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILE_NAMES)}")
    return table[name].override(overrides)
