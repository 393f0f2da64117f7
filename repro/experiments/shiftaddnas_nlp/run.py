"""ShiftAddNAS on translation, the computing part: the study's config (:class:`NLPExperiment`, from the
profile), the corpus as subword ids, one-shot supernet training, the evolutionary searches under FLOPs
budgets, retraining from scratch with BLEU, and the cost model's numbers. Every step is cached
(:func:`repro.cache.cached`; the key is ``asdict(exp)`` and the step's own arguments).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Callable, Iterator

import sacrebleu
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from repro import evidence
from repro.cache import Checkpoint, cached
from repro.cost import zoo
from repro.cost.eyeriss import network_cost
from repro.data.corpus import PAIRS, load_pairs
from repro.data.subwords import BOS_ID, EOS_ID, PAD_ID, subword_model
from repro.profiles import Profile
from repro.search.evolution import EvolutionSettings, evolutionary_search
from repro.spaces.base import Config
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace, dims_for
from repro.supernets import shiftaddnas_nlp as supernet_module
from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer, standalone
from repro.train import one_shot
from repro.train.one_shot import train_one_shot, train_steps

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # source, target input, target output


@dataclass
class TranslationData:
    """One corpus pair as subword ids: ``(source, target)`` lists per split, and the test references."""
    pair: str
    vocab_size: int
    train: list[tuple[list[int], list[int]]]
    valid: list[tuple[list[int], list[int]]]
    test: list[tuple[list[int], list[int]]]
    test_refs: list[str]
    decode: Callable[[list[int]], str]


@lru_cache(maxsize=4)
def load_data(pair: str, vocab_size: int, max_pairs: int, max_tokens: int, test_pairs: int = 0) -> TranslationData:
    """Tokenise a pair with its joint sentencepiece model; sides cut to ``max_tokens`` subwords;
    the first ``test_pairs`` test pairs (0: all)."""
    if pair not in PAIRS:
        raise ValueError(f"unknown pair {pair!r}; valid pairs: {PAIRS}")
    sp = subword_model(pair, vocab_size)

    def ids(split: str, limit: int) -> tuple[list[tuple[list[int], list[int]]], list[str]]:
        pairs = load_pairs(pair, split, limit)
        src = sp.encode([s for s, _ in pairs])
        tgt = sp.encode([t for _, t in pairs])
        return [(s[:max_tokens], t[:max_tokens]) for s, t in zip(src, tgt)], [t for _, t in pairs]

    train, _ = ids("train", max_pairs)
    valid, _ = ids("valid", 0)
    test, refs = ids("test", test_pairs)
    return TranslationData(pair, sp.get_piece_size(), train, valid, test, refs, sp.decode)


def collate(pairs: list[tuple[list[int], list[int]]]) -> Batch:
    """Padded ``source + EOS``, ``BOS + target`` and ``target + EOS`` tensors."""
    def pad(rows: list[list[int]]) -> torch.Tensor:
        out = torch.full((len(rows), max(map(len, rows))), PAD_ID, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        return out

    return (pad([s + [EOS_ID] for s, _ in pairs]), pad([[BOS_ID] + t for _, t in pairs]),
            pad([t + [EOS_ID] for _, t in pairs]))


def batch_stream(pairs: list[tuple[list[int], list[int]]], batch_size: int, seed: int) -> Callable[[], Iterator[Batch]]:
    """A factory of endless, seeded streams of batches of similar length (shuffled every epoch)."""
    def stream() -> Iterator[Batch]:
        epoch = 0
        while True:
            rng = random.Random(seed * 7919 + epoch)
            order = list(range(len(pairs)))
            rng.shuffle(order)
            chunk = batch_size * 20  # sort within chunks of 20 batches: less padding, still random
            batches = []
            for i in range(0, len(order), chunk):
                part = sorted(order[i:i + chunk], key=lambda j: len(pairs[j][0]) + len(pairs[j][1]))
                batches += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
            rng.shuffle(batches)
            for b in batches:
                yield collate([pairs[j] for j in b])
            epoch += 1
    return stream


def translation_loss(model: nn.Module, batch: Batch, label_smoothing: float) -> torch.Tensor:
    """Token-level cross-entropy with label smoothing (padding ignored)."""
    src, tgt_in, tgt_out = batch
    logits = model(src, tgt_in)
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID,
                           label_smoothing=label_smoothing)


@torch.no_grad()
def validation_loss(model: nn.Module, batches: list[Batch]) -> float:
    """Mean token cross-entropy (no smoothing) over fixed batches: the search fitness (negated)."""
    was = model.training
    model.eval()
    total = tokens = 0.0
    for src, tgt_in, tgt_out in batches:
        logits = model(src, tgt_in)
        n = tgt_out.ne(PAD_ID).sum().item()
        total += F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID,
                                 reduction="sum").item()
        tokens += n
    model.train(was)
    return total / max(tokens, 1)



@dataclass(frozen=True)
class NLPExperiment:
    """What an NLP run depends on: the cache key of every training, search and retraining below.

    ``seeds``: the retrainings' seeds (paired across the arms of a claim); the first also seeds the
    supernet and the searches.
    """
    scale: str
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    dropout: float
    label_smoothing: float
    retrain_steps: int
    search_iterations: int
    population: int
    budget_fractions: tuple[float, ...]
    fitness_pairs: int
    retrain_subnets: int
    max_tokens: int
    test_pairs: int
    vocab_size: int
    max_pairs: int
    seeds: tuple[int, ...]

    @classmethod
    def from_profile(cls, profile: Profile) -> "NLPExperiment":
        n = profile.nlp
        return cls(scale=n.scale, steps=n.steps, batch_size=n.batch_size, lr=n.lr, warmup_steps=n.warmup_steps,
                   dropout=n.dropout, label_smoothing=n.label_smoothing, retrain_steps=n.retrain_steps,
                   search_iterations=n.search_iterations, population=n.population,
                   budget_fractions=n.budget_fractions, fitness_pairs=n.fitness_pairs,
                   retrain_subnets=n.retrain_subnets, max_tokens=n.max_tokens, test_pairs=n.test_pairs,
                   vocab_size=profile.data.spm_vocab_size, max_pairs=profile.data.corpus_max_pairs,
                   seeds=profile.seed_list)

    @property
    def seed(self) -> int:
        return self.seeds[0]

    @property
    def space(self) -> ShiftAddNASNLPSpace:
        return ShiftAddNASNLPSpace(dims_for(self.scale))

    @property
    def evolution(self) -> EvolutionSettings:
        """HAT's settings scaled to the profile's sizes."""
        return EvolutionSettings.nlp().scaled(self.search_iterations, self.population)

    def loss(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        """The training loss: :func:`translation_loss` with this run's label smoothing."""
        return translation_loss(model, batch, self.label_smoothing)


def translation_data(exp: NLPExperiment, pair: str) -> TranslationData:
    """The corpus pair at the experiment's vocabulary, size and sentence length."""
    return load_data(pair, exp.vocab_size, exp.max_pairs, exp.max_tokens, exp.test_pairs)


_CODE = (supernet_module, one_shot, ShiftAddNASNLPSpace)


def train_supernet(exp: NLPExperiment, pair: str, sharing: str = "heterogeneous") -> dict:
    """The trained supernet of ``pair`` (cached): ``state_dict``, ``losses``, ``wall_clock_s``, ``steps``."""
    def compute(ckpt: Checkpoint) -> dict:
        data = translation_data(exp, pair)
        torch.manual_seed(exp.seed)
        net = ShiftAddNASTransformer(exp.space.dims, data.vocab_size, sharing, dropout=exp.dropout)
        res = train_one_shot(net, exp.space, batch_stream(data.train, exp.batch_size, exp.seed), exp.loss,
                             steps=exp.steps, lr=exp.lr, warmup_steps=exp.warmup_steps, ckpt=ckpt, seed=exp.seed,
                             desc=f"supernet {pair} ({sharing})")
        return {"state_dict": net.state_dict(), "losses": res.losses, "wall_clock_s": res.wall_clock_s,
                "steps": res.steps, "vocab_size": data.vocab_size}

    return cached(f"nlp-supernet-{pair}-{sharing}", {"exp": asdict(exp), "pair": pair, "sharing": sharing}, compute,
                  code=_CODE)


def load_supernet(exp: NLPExperiment, pair: str, sharing: str = "heterogeneous") -> ShiftAddNASTransformer:
    trained = train_supernet(exp, pair, sharing)
    net = ShiftAddNASTransformer(exp.space.dims, trained["vocab_size"], sharing, dropout=exp.dropout)
    net.load_state_dict(trained["state_dict"])
    return net.eval()


def flops_budgets(exp: NLPExperiment) -> list[int]:
    """The FLOPs budgets: the profile's fractions of the FLOPs of the space's plain Transformer
    (the paper searches 1.5G-4.5G against Transformer-Big's 10.6G)."""
    space = exp.space
    full = space.flops(space.transformer())
    return [int(f * full) for f in exp.budget_fractions]


def search(exp: NLPExperiment, pair: str, sharing: str = "heterogeneous") -> list[dict]:
    """Evolutionary search under every FLOPs budget (cached): per budget the best config, its
    validation loss with inherited weights, FLOPs, the search history and the wall-clock time."""
    def compute(ckpt: Checkpoint) -> list[dict]:
        net = load_supernet(exp, pair, sharing)
        space = exp.space
        data = translation_data(exp, pair)
        valid = [collate(data.valid[i:i + 64]) for i in range(0, min(exp.fitness_pairs, len(data.valid)), 64)]

        def fitness(c: Config) -> float:
            net.set_active_subnet(c)
            return -validation_loss(net, valid)

        out = []
        for budget in flops_budgets(exp):
            t0 = time.perf_counter()
            res = evolutionary_search(space, fitness, exp.evolution, lambda c, b=budget: space.flops(c) <= b,
                                      seed=exp.seed, desc=f"search {pair} <= {budget / 1e6:.1f} MFLOPs")
            out.append({"budget_flops": budget, "config": res.best, "valid_loss": -res.best_fitness,
                        "flops": space.flops(res.best), "params": space.params(res.best), "history": res.history,
                        "evaluated": res.evaluated, "wall_clock_s": time.perf_counter() - t0})
        return out

    return cached(f"nlp-search-{pair}-{sharing}", {"exp": asdict(exp), "pair": pair, "sharing": sharing}, compute,
                  code=_CODE)


@torch.no_grad()
def greedy_decode(model: ShiftAddNASTransformer, sources: list[list[int]], batch_size: int = 128,
                  extra_len: int = 10) -> list[list[int]]:
    """Greedy translations (subword ids without BOS/EOS), the encoder run once per batch."""
    model.eval()
    out: list[list[int]] = []
    for i in tqdm(range(0, len(sources), batch_size), desc="greedy decode", leave=False):
        chunk = sources[i:i + batch_size]
        src = collate([(s, []) for s in chunk])[0]
        encoded = model.encode(src)
        ys = torch.full((len(chunk), 1), BOS_ID, dtype=torch.long)
        done = torch.zeros(len(chunk), dtype=torch.bool)
        for _ in range(src.shape[1] + extra_len):
            nxt = model.decode(ys, encoded)[:, -1].argmax(-1)
            nxt = nxt.masked_fill(done, PAD_ID)
            ys = torch.cat([ys, nxt[:, None]], dim=1)
            done |= nxt.eq(EOS_ID)
            if done.all():
                break
        for row in ys[:, 1:].tolist():
            row = row[: row.index(EOS_ID)] if EOS_ID in row else row
            out.append([t for t in row if t != PAD_ID])
    return out


def bleu(model: ShiftAddNASTransformer, data: TranslationData) -> float:
    """Corpus BLEU (sacrebleu, case-sensitive, its default 13a tokenisation) of greedy test decodes."""
    hyps = [data.decode(ids) for ids in greedy_decode(model, [s for s, _ in data.test])]
    return sacrebleu.corpus_bleu(hyps, [data.test_refs]).score


def subnet_costs(model: nn.Module, config: Config, space: ShiftAddNASNLPSpace) -> dict:
    """Params and FLOPs (HAT convention) and Eyeriss energy / latency of one 30+30-token pass."""
    d = space.dims
    example = (torch.full((1, d.src_len), 4, dtype=torch.long), torch.full((1, d.tgt_len), 4, dtype=torch.long))
    cost = network_cost(model, example, bits=32, exclude=zoo.HAT_EXCLUDE)
    return {"params": space.params(config), "flops": space.flops(config), "energy_mj": cost.energy_mj,
            "latency_ms": cost.latency_ms}


def retrain(exp: NLPExperiment, pair: str, config: Config, seed: int | None = None) -> dict:
    """Train ``config`` from scratch (Sec. 4.1 recipe, ``retrain_steps``; ``seed`` sets the initialisation
    and data order, default ``exp.seed``), then BLEU on the test set and the cost model's numbers
    (cached): ``bleu``, ``losses``, ``wall_clock_s`` and the costs."""
    space = exp.space
    space.validate(config)
    seed = exp.seed if seed is None else seed

    def compute(ckpt: Checkpoint) -> dict:
        data = translation_data(exp, pair)
        torch.manual_seed(seed)
        net = standalone(config, space.dims, data.vocab_size, dropout=exp.dropout)
        res = train_steps(net, batch_stream(data.train, exp.batch_size, seed), exp.loss,
                          steps=exp.retrain_steps, lr=exp.lr, warmup_steps=exp.warmup_steps, ckpt=ckpt,
                          seed=seed, desc=f"retrain {pair}")
        return {"config": config, "bleu": bleu(net, data), "losses": res.losses, "wall_clock_s": res.wall_clock_s,
                **subnet_costs(net, config, space)}

    return cached(f"nlp-retrain-{pair}", {"exp": asdict(exp), "pair": pair, "config": config, "seed": seed},
                  compute, code=_CODE + (bleu, greedy_decode))


def run_search_and_retrain(exp: NLPExperiment, pair: str) -> dict:
    """Notebook 04's NLP work for one pair: the searches (cached from notebook 03), the first
    ``retrain_subnets`` searched subnets and the space's plain Transformer retrained from scratch.

    ``retrained``: the first seed's models (baseline first); ``per_seed``: one such list per seed of
    ``exp.seeds``; the later seeds only when every first-seed model passes the BLEU gate.
    """
    space = exp.space
    found = search(exp, pair)

    def models(seed: int) -> list[dict]:
        searched = [{**retrain(exp, pair, s["config"], seed), "valid_loss": s["valid_loss"],
                     "model": f"searched (<= {s['budget_flops'] / 1e6:.1f} MFLOPs)"}
                    for s in found[: exp.retrain_subnets]]
        return [{**retrain(exp, pair, space.transformer(), seed), "model": "Transformer (same scale)"}, *searched]

    first, *rest = exp.seeds
    per_seed = [models(first)]
    if bleu_gate(per_seed[0]).passed:
        per_seed += [models(seed) for seed in rest]
    return {"searches": found, "retrained": per_seed[0], "per_seed": per_seed}


def bleu_gate(models: list[dict], what: str = "test BLEU of the retrained models") -> evidence.Gate:
    """Every retrained model reaches :data:`repro.evidence.BLEU_FLOOR` on the test set (it decides whether
    the further seeds are retrained; ``claims.trade_off`` gates on it)."""
    return evidence.min_gate(what, [m["bleu"] for m in models], evidence.BLEU_FLOOR)
