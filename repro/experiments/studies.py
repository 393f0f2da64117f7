"""The studies of ``python -m repro train STUDY``: each trains one model of one paper on the engine.

A study reads its settings from a profile (``smoke``, ``default``, ``gpu``, ``paper``) and its data
from the profile's scale: at ``paper`` scale the user's datasets (ImageNet through torchvision with
DeiT's recipe, CIFAR through torchvision's readers, WMT'14 with token-count batching), otherwise
the embedded ones (Fashion-MNIST, the gettext corpus). It writes into ``OUT/STUDY/``:
``checkpoint.pt`` (atomic, the engine's exact resume), ``metrics.jsonl`` (one line per step),
``arch.json`` (the subnet or cell a retraining trains) and ``result.json`` (steps done, losses,
wall clock, the profile, the device, the number of processes). ``--max-steps N`` stops after ``N``
steps of the profile's schedule with a valid checkpoint; ``--resume`` continues it. A study with a
checkpoint in its folder is never restarted over it without ``--resume``.

Under ``torchrun`` every process runs the study; the engine averages gradients (DDP), and the
global batch stays the paper's: with ``gpus`` GPUs assumed by the paper and ``W`` processes each
step accumulates ``gpus / W`` micro-batches.

The notebooks call the same trainers (:func:`repro.train.one_shot.train_one_shot`,
:func:`repro.search.probability_shift.train_supernet`, :func:`repro.search.dots.search`) through
their cached experiment functions; a study adds the data of its scale and the run options.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from repro import registry
from repro.cache import Checkpoint, atomic_write_text, cached
from repro.profiles import ConfigError, Profile
from repro.train import distributed


class StudyError(RuntimeError):
    """A study cannot start or continue as asked (the message names the fix)."""


@dataclass(frozen=True)
class TrainOptions:
    """How ``python -m repro train`` runs a study (what it trains is the profile's)."""
    out: Path
    device: str = "auto"
    max_steps: int | None = None
    resume: bool = False
    arch: Path | None = None   # a retraining's subnet / cell (JSON); default: the study's own choice

    def __post_init__(self) -> None:
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"--max-steps must be >= 1, got {self.max_steps}")


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    run: Callable[[Profile, TrainOptions, Path], dict]


#: The registered studies (:mod:`repro.registry`, kind ``"study"``), in definition order.
STUDIES = registry.table("study")


def study(name: str, description: str) -> Callable:
    """Register a study function ``fn(profile, options, folder) -> dict`` under ``name``."""
    def register(fn: Callable[[Profile, TrainOptions, Path], dict]) -> Callable:
        registry.register("study", name)(Study(name, description, fn))
        return fn
    return register


def accumulation(gpus: int) -> int:
    """Micro-batches per process and step so that ``world x accumulate`` is the paper's ``gpus``."""
    world = distributed.world_size()
    if world >= gpus:
        return 1
    if gpus % world:
        raise ConfigError(f"the profile's global batch assumes {gpus} GPUs; {world} processes do not divide "
                          f"it: launch a divisor of {gpus} processes (torchrun --nproc_per_node)")
    return gpus // world


def _run(options: TrainOptions, folder: Path, gpus: int) -> dict[str, Any]:
    """The engine's keywords of one study run."""
    return {"ckpt": Checkpoint(folder / "checkpoint.pt"), "metrics": folder / "metrics.jsonl",
            "device": options.device, "stop_at": options.max_steps, "accumulate": accumulation(gpus)}




def _read_arch(options: TrainOptions, folder: Path, kind: str, scale: str | None, default: Callable[[], Any]) -> Any:
    """The architecture a retraining trains: ``--arch FILE`` (an architecture file of
    :mod:`repro.spaces.arch_files`, or a raw config of ``kind``), else the one of an earlier run in
    ``folder`` (a resumed run keeps it), else ``default()``; validated and written to ``arch.json``."""
    from repro.spaces.arch_files import read_arch, validate, write_arch

    path = options.arch or (folder / "arch.json" if (folder / "arch.json").exists() else None)
    try:
        config = (read_arch(path, kind=kind).config if path is not None else default())
        config = validate(kind, config, scale)[0]
    except (KeyError, ValueError, TypeError) as err:
        where = f"--arch {path}" if path is not None else "the study's default architecture"
        raise StudyError(f"{where}: not a {kind} architecture at scale {scale} ({err})") from err
    if distributed.is_main():
        write_arch(folder / "arch.json", kind, config, **({"scale": scale} if scale else {}), study=folder.name)
    return config


def _summary(res: Any, **extra: Any) -> dict:
    losses = list(res.losses)
    return {"steps": res.steps, "final_loss": losses[-1] if losses else None,
            "wall_clock_s": round(res.wall_clock_s, 2), **extra}


def _loader(data: Any, batch_size: int, profile: Profile, *, shuffle: bool,
            drop_last: bool = True) -> torch.utils.data.DataLoader:
    """A seeded loader (the same epochs when rerun: exact resume) with the profile's worker processes."""
    workers = profile.data.workers
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                                       generator=torch.Generator().manual_seed(profile.seed), num_workers=workers,
                                       pin_memory=torch.cuda.is_available(), persistent_workers=workers > 0)


# ---------------------------------------------------------------- ShiftAddNAS, CV

def _cv_data(profile: Profile) -> tuple[Callable, Callable]:
    """(batch factory, loss) of the CV studies: ImageNet with DeiT's recipe (Mixup / CutMix, label
    smoothing 0.1) at paper scale, Fashion-MNIST with plain cross-entropy otherwise."""
    from repro.experiments.shiftaddnas_cv import run as cv

    s = profile.supernet
    if s.scale != "paper":
        train = cv.splits(cv.CVExperiment.from_profile(profile))[0]
        return (lambda: cv.batches(train, s.batch_size, profile.seed)), cv.classification_loss
    from repro.data import vision
    from repro.spaces.shiftaddnas_cv import dims_for

    dims = dims_for(s.scale)
    data = vision.imagenet_dataset("train", profile.data.imagenet_root, image_size=s.image_size or dims.input_size,
                                   train_recipe="deit")
    stream = vision.batch_stream(data, vision.LoaderConfig(batch_size=s.batch_size, workers=profile.data.workers,
                                                           pin_memory=torch.cuda.is_available(), drop_last=True,
                                                           seed=profile.seed))
    mix = vision.mixup_fn(dims.num_classes)

    def loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = mix(*batch)
        return torch.sum(-y * F.log_softmax(model(x), dim=-1), dim=-1).mean()
    return stream, loss


@study("shiftaddnas-cv-supernet", "ShiftAddNAS CV supernet, one-shot with heterogeneous sharing "
       "(Sec. 3.2; ImageNet at paper scale)")
def cv_supernet(profile: Profile, options: TrainOptions, folder: Path) -> dict:
    from repro.experiments.shiftaddnas_cv import run as cv
    from repro.supernets.shiftaddnas_cv import CVSupernet
    from repro.train.one_shot import train_one_shot

    exp = cv.CVExperiment.from_profile(profile)
    torch.manual_seed(profile.seed)
    net = CVSupernet(exp.space.dims, "heterogeneous")
    batches, loss = _cv_data(profile)
    res = train_one_shot(net, exp.space, batches, loss, steps=exp.steps, lr=exp.lr, warmup_steps=exp.warmup_steps,
                         weight_decay=exp.weight_decay, seed=profile.seed, desc=f"CV supernet [{profile.name}]",
                         ckpt_every=max(10, exp.steps // 100), **_run(options, folder, profile.supernet.gpus))
    return _summary(res)


@study("shiftaddnas-cv-retrain", "ShiftAddNAS CV: a searched subnet (--arch, else a seeded sample) "
       "retrained from scratch (Sec. 4.1)")
def cv_retrain(profile: Profile, options: TrainOptions, folder: Path) -> dict:
    from repro.experiments.shiftaddnas_cv import run as cv
    from repro.spaces.shiftaddnas_cv import PAPER_FIG8
    from repro.train.ema import EmaHook
    from repro.train.one_shot import train_steps

    exp = cv.CVExperiment.from_profile(profile)
    space = exp.space

    def default() -> Any:  # at paper scale the paper's searched subnet (Fig. 8), else a seeded sample
        return PAPER_FIG8 if exp.scale == "paper" else space.sample(random.Random(profile.seed))
    config = _read_arch(options, folder, "shiftaddnas-cv", exp.scale, default)
    torch.manual_seed(profile.seed)
    net = cv.standalone_net(exp.scale, config)
    batches, loss = _cv_data(profile)
    steps = exp.standalone_steps
    decay = profile.supernet.ema_decay
    ema = [EmaHook(net, decay)] if decay else []
    res = train_steps(net, batches, loss, steps=steps, lr=exp.lr, warmup_steps=max(1, steps // 10),
                      weight_decay=exp.weight_decay, seed=profile.seed, desc=f"CV retrain [{profile.name}]",
                      ckpt_every=max(10, steps // 100), hooks=ema, **_run(options, folder, profile.supernet.gpus))
    scores = {}
    if res.steps == steps and distributed.is_main():  # finished: top-1 on the held-out test images
        from repro.train.basic import evaluate

        test = _loader(_cv_test(profile), 256, profile, shuffle=False, drop_last=False)
        scores = {"test_acc": evaluate(net.eval(), test)["acc"]}  # the raw weights, as the released evaluation
        if ema:
            scores["test_acc_ema"] = evaluate(ema[0].module.eval(), test)["acc"]
    return _summary(res, **scores)


def _cv_test(profile: Profile) -> Any:
    """The CV test images: ILSVRC-2012 val (DeiT's eval crop) at paper scale, Fashion-MNIST's test set otherwise."""
    from repro.experiments.shiftaddnas_cv import run as cv

    s = profile.supernet
    if s.scale != "paper":
        return cv.splits(cv.CVExperiment.from_profile(profile))[2]
    from repro.data import vision

    return vision.imagenet_dataset("val", profile.data.imagenet_root,
                                   image_size=s.image_size or cv.dims_for(s.scale).input_size)


# ---------------------------------------------------------------- ShiftAddNAS, NLP

@dataclass(frozen=True)
class _NlpData:
    batches: Callable
    vocab_size: int
    test_sources: list[list[int]]   # subword ids of the test sources (the first ``nlp.test_pairs``)
    test_refs: list[str]
    decode: Callable[[list[int]], str]


def _nlp_data(profile: Profile, pair: str) -> _NlpData:
    """WMT'14 with HAT's token-count batching (``batch_size`` tokens per GPU) and newstest2014 at
    paper scale, the gettext corpus in sentence batches otherwise."""
    from repro.experiments.shiftaddnas_nlp import run as nlp

    cfg = profile.nlp
    if cfg.scale != "paper":
        data = nlp.translation_data(nlp.NLPExperiment.from_profile(profile), pair)
        return _NlpData(nlp.batch_stream(data.train, cfg.batch_size, profile.seed), data.vocab_size,
                        [src for src, _ in data.test], data.test_refs, data.decode)
    from repro.data import token_batching as tb
    from repro.data import wmt
    from repro.data.subwords import wmt14_subword_model

    root = profile.data.wmt14_root
    sp = wmt14_subword_model(pair, profile.data.spm_vocab_size, root)
    files = wmt.find_files(pair, "train", root)
    text = tb.ParallelText.open(*files)
    key = {"files": [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files],
           "spm": hashlib.sha256(sp.serialized_model_proto()).hexdigest(), "max_positions": cfg.max_tokens}
    lens = cached("wmt14-token-lengths", key, lambda _: tuple(tb.token_lengths(side, sp, cfg.max_tokens)
                                                             for side in (text.src, text.tgt)))
    stream = tb.TokenBatchStream(text, sp, tb.TokenBatchConfig(max_tokens=cfg.batch_size, max_positions=cfg.max_tokens,
                                                               seed=profile.seed), src_lens=lens[0], tgt_lens=lens[1])
    test = wmt.load_wmt14(pair, "test", root, cfg.test_pairs)
    return _NlpData(stream, sp.get_piece_size(), [ids[:cfg.max_tokens] for ids in sp.encode([s for s, _ in test])],
                    [t for _, t in test], sp.decode)


def _nlp_supernet(pair: str) -> Callable:
    def run(profile: Profile, options: TrainOptions, folder: Path) -> dict:
        from repro.experiments.shiftaddnas_nlp import run as nlp
        from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer
        from repro.train.one_shot import train_one_shot

        exp = nlp.NLPExperiment.from_profile(profile)
        cfg, space = profile.nlp, exp.space
        data = _nlp_data(profile, pair)
        vocab = data.vocab_size
        torch.manual_seed(profile.seed)
        net = ShiftAddNASTransformer(space.dims, vocab, "heterogeneous", dropout=cfg.dropout)
        res = train_one_shot(net, space, data.batches, exp.loss, steps=cfg.steps, lr=cfg.lr,
                             warmup_steps=cfg.warmup_steps, seed=profile.seed, ckpt_every=max(10, cfg.steps // 100),
                             desc=f"NLP supernet {pair} [{profile.name}]", **_run(options, folder, cfg.gpus))
        return _summary(res, vocab_size=vocab)
    return run


def _nlp_retrain(pair: str) -> Callable:
    def run(profile: Profile, options: TrainOptions, folder: Path) -> dict:
        from repro.experiments.shiftaddnas_nlp import run as nlp
        from repro.supernets.shiftaddnas_nlp import standalone
        from repro.train.one_shot import train_steps

        exp = nlp.NLPExperiment.from_profile(profile)
        cfg, space = profile.nlp, exp.space

        config = _read_arch(options, folder, "shiftaddnas-nlp", cfg.scale, space.transformer)
        data = _nlp_data(profile, pair)
        torch.manual_seed(profile.seed)
        net = standalone(config, space.dims, data.vocab_size, dropout=cfg.dropout)
        res = train_steps(net, data.batches, exp.loss, steps=cfg.retrain_steps, lr=cfg.lr,
                          warmup_steps=cfg.warmup_steps, seed=profile.seed,
                          ckpt_every=max(10, cfg.retrain_steps // 100), desc=f"NLP retrain {pair} [{profile.name}]",
                          **_run(options, folder, cfg.gpus))
        scores = {}
        if res.steps == cfg.retrain_steps and distributed.is_main():  # finished: greedy test decodes, both BLEUs
            from repro.data import bleu

            hyps = [data.decode(ids) for ids in nlp.greedy_decode(net.cpu(), data.test_sources)]
            scores = {"sacre_bleu": bleu.sacre_bleu(hyps, data.test_refs),
                      "hat_bleu": bleu.hat_bleu(hyps, data.test_refs, pair.split("-")[1]), "bleu_labels": bleu.LABELS}
        return _summary(res, vocab_size=data.vocab_size, **scores)
    return run


for _pair in ("en-de", "en-fr"):
    study(f"shiftaddnas-nlp-{_pair}-supernet", f"ShiftAddNAS NLP supernet, {_pair} (Sec. 3.2, 4.1; "
          "WMT'14 at paper scale, HAT's token batching)")(_nlp_supernet(_pair))
    study(f"shiftaddnas-nlp-{_pair}-retrain", f"ShiftAddNAS NLP: a searched subnet (--arch, else the plain "
          f"Transformer of the space) retrained from scratch, {_pair} (Sec. 4.1)")(_nlp_retrain(_pair))


# ---------------------------------------------------------------- ShiftNAS, bit-shift (DOTS)

def _bitshift_data(profile: Profile, *, evaluation: bool = False):
    """(train, test) of notebook 06's study (:func:`repro.experiments.bitshift.run.load_data`): CIFAR
    through torchvision with the DARTS augmentation when ``bitshift.dataset`` is a CIFAR, Cutout added
    for the ``evaluation`` training; Fashion-MNIST pooled to ``image_size`` otherwise."""
    from repro.experiments.bitshift import run as bitshift

    study_ = bitshift.BitshiftStudy.from_profile(profile)
    return bitshift.eval_data(study_) if evaluation else bitshift.load_data(study_)


def _genotype_scale(profile: Profile) -> str | None:
    """The evaluation network a searched cell is built for: the CIFAR of the profile (none for Fashion-MNIST)."""
    return profile.bitshift.dataset if profile.bitshift.dataset != "fashion_mnist" else None


def _bitshift_search(strategy: str) -> Callable:
    """The DOTS search of ShiftNAS (``"dots"``) or the plain DARTS baseline (``"darts"``, one bi-level stage
    as long as all four DOTS stages: lengthen it with ``--set bitshift.topo_epochs=N`` to look for the
    skip-connection collapse of Sec. 5.4)."""
    def run(profile: Profile, options: TrainOptions, folder: Path) -> dict:
        from repro.experiments.bitshift import run as bitshift
        from repro.search import darts, dots
        from repro.spaces.arch_files import write_arch

        train, test = _bitshift_data(profile)
        scfg = bitshift.search_config(bitshift.BitshiftStudy.from_profile(profile), train, profile.seed)
        search = dots.search if strategy == "dots" else darts.search
        res = search(scfg, bitshift.search_data(train, test), Checkpoint(folder / "checkpoint.pt"),
                     device=options.device, stop_at=options.max_steps, metrics=folder / "metrics.jsonl")
        if distributed.is_main():
            cifar = _genotype_scale(profile)
            write_arch(folder / "genotype.json", "darts-genotype", res.genotype, **({"scale": cifar} if cifar else {}),
                       study=folder.name, finished=options.max_steps is None)
        return {"genotype": asdict(res.genotype), "skip_connect_normal": res.genotype.count("skip_connect"),
                "epochs": len(res.history), "history": res.history, "wall_clock_s": round(res.seconds, 2)}
    return run


study("bitshift-search", "ShiftNAS bit-shift cell search, DOTS's four stages (Sec. 4; CIFAR-10/100 at paper "
      "scale)")(_bitshift_search("dots"))
study("bitshift-search-darts", "the DARTS baseline in the same bit-shift space, as long as the four DOTS stages "
      "(Sec. 5.4's skip-connection collapse)")(_bitshift_search("darts"))


@study("bitshift-eval", "ShiftNAS bit-shift: the searched cell (--arch, else bitshift-search's genotype) "
       "trained from scratch (Sec. 5.1)")
def bitshift_eval(profile: Profile, options: TrainOptions, folder: Path) -> dict:
    from repro.experiments.bitshift import run as bitshift

    searched = folder.parent / "bitshift-search" / "genotype.json"

    def default() -> Any:
        if not searched.exists():
            raise StudyError(f"no searched cell: run `python -m repro train bitshift-search` with the same --out "
                             f"first (it writes {searched}), or pass --arch GENOTYPE.json")
        from repro.spaces.arch_files import read_arch

        return read_arch(searched, kind="darts-genotype").config
    genotype = _read_arch(options, folder, "darts-genotype", _genotype_scale(profile), default)
    train, test = _bitshift_data(profile, evaluation=True)
    spec = bitshift.TrainSpec("ShiftNAS", "shift", genotype, profile.bitshift.batch_size)
    res = bitshift.fit_network(bitshift.BitshiftStudy.from_profile(profile), spec, train, test, profile.seed,
                               Checkpoint(folder / "checkpoint.pt"),
                               device=options.device, stop_at=options.max_steps, metrics=folder / "metrics.jsonl")
    return {"history": res.history, "wall_clock_s": round(res.seconds, 2)}


# ---------------------------------------------------------------- ShiftNAS, probability shift

def _probshift_supernet(space: str | None, family: str = "vit") -> Callable:
    def run(profile: Profile, options: TrainOptions, folder: Path) -> dict:
        from repro.experiments.probability_shift import run as pse
        from repro.search import generator as ag
        from repro.search import probability_shift as ps
        from repro.train.basic import evaluate

        cfg = profile.probshift if space is None else replace(profile.probshift, space=space)
        train, val, test = pse.datasets(cfg, profile.seed, profile.data.imagenet_root, family=family)
        spc = pse.space_of(cfg, family)
        bins = pse.bins_for(spc, cfg.bin_width)
        gen = pse.warm_generator(spc, bins, cfg.generator_warm_steps, profile.seed, cfg.generator_warm_lr)
        tcfg = replace(pse.train_config(cfg, "shift", profile.seed), snapshot_epochs=())
        torch.manual_seed(profile.seed)
        net = pse.supernet(spc)
        train_batches, accumulate = _loader(train, cfg.batch_size, profile, shuffle=True), accumulation(cfg.gpus)
        res = ps.train_supernet(net, spc, bins, train_batches,
                                _loader(val, cfg.batch_size, profile, shuffle=False), tcfg, gen,
                                Checkpoint(folder / "checkpoint.pt"), device=options.device, stop_at=options.max_steps,
                                metrics=folder / "metrics.jsonl", accumulate=accumulate,
                                ckpt_every=max(10, len(train) // cfg.batch_size // 10))
        scores = {}
        steps = cfg.epochs * (len(train_batches) // (distributed.world_size() * accumulate))
        if len(res.losses) == steps and distributed.is_main():
            # finished: the generator's subnet of every bin (as the paper deploys), top-1 on the test images
            test_batches = _loader(test, 256, profile, shuffle=False, drop_last=False)
            with torch.no_grad():
                subnets = ag.configs(spc, gen(torch.tensor(bins.centers, device=next(gen.parameters()).device),
                                              greedy=True))
            accs = []
            for sub in subnets:
                net.set_active_subnet(sub)
                accs.append(round(evaluate(net.eval(), test_batches)["acc"], 2))
            scores = {"test_acc_by_bin": accs, "bin_centers_mflops": [round(c / 1e6, 3) for c in bins.centers]}
        return {"steps": len(res.losses), "final_loss": res.losses[-1] if res.losses else None,
                "probs": res.probs[-1][1] if res.probs else None, "wall_clock_s": round(res.seconds, 2), **scores}
    return run


study("probshift-supernet", "ShiftNAS-PS supernet with probability shift and the generator (Alg. 1, 2) "
      "in the profile's space")(_probshift_supernet(None))
study("probshift-supernet-cnn", "ShiftNAS-PS supernet with probability shift in the profile's CNN space "
      "(Fig. 4's CNN panel)")(_probshift_supernet(None, "cnn"))
for _space in ("T", "S", "B"):
    study(f"probshift-supernet-vit-{_space.lower()}", f"ShiftNAS-PS supernet in AutoFormer's ViT-{_space} space "
          "(ImageNet)")(_probshift_supernet(_space))


# ---------------------------------------------------------------- running one

def run_study(name: str, profile: Profile, options: TrainOptions) -> dict:
    """Run study ``name`` into ``options.out / name``; ``result.json`` records what was done."""
    if name not in STUDIES:
        raise StudyError(f"unknown study {name!r}; `python -m repro train --list` lists them")
    folder = Path(options.out) / name
    ckpt = folder / "checkpoint.pt"
    if (ckpt.exists() or ckpt.with_name(ckpt.name + ".prev").exists()) and not options.resume:
        raise StudyError(f"{ckpt} holds an earlier run of {name}: pass --resume to continue it, or --out to "
                         "start a new run elsewhere (nothing was overwritten)")
    folder.mkdir(parents=True, exist_ok=True)
    result = STUDIES[name].run(profile, options, folder)
    result = {"study": name, "profile": profile.name, "device": options.device, "max_steps": options.max_steps,
              "world_size": distributed.world_size(), **result}
    if distributed.is_main():
        atomic_write_text(folder / "result.json", json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    return result
