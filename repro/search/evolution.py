"""Evolutionary architecture search with constraint rejection (HAT for NLP, AutoFormer for CV).

Each iteration evaluates the population, keeps the ``parents`` fittest, and refills the population
with ``mutations`` mutated parents (each decision resampled with ``mutation_prob``) and
``crossovers`` children of two parents. A candidate that breaks the constraint (FLOPs, latency or
energy budget) is rejected and drawn again, at most ``max_tries`` times in a row.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from typing import Callable

from tqdm.auto import tqdm

from repro.spaces.base import Config, SearchSpace


class ConstraintUnsatisfiable(RuntimeError):
    """No candidate meeting the constraint was found within the allowed number of tries."""


@dataclass(frozen=True)
class EvolutionSettings:
    """Population sizes of the evolutionary search; validated on construction."""
    iterations: int
    population: int
    parents: int
    mutations: int
    mutation_prob: float
    crossovers: int
    max_tries: int = 1000

    def __post_init__(self) -> None:
        for name in ("iterations", "population", "parents", "max_tries"):
            if getattr(self, name) < 1:
                raise ValueError(f"EvolutionSettings.{name} must be >= 1, got {getattr(self, name)}")
        if self.mutations < 0 or self.crossovers < 0:
            raise ValueError("EvolutionSettings.mutations and .crossovers must be >= 0")
        if self.parents > self.population:
            raise ValueError(f"parents ({self.parents}) cannot exceed the population ({self.population})")
        if not 0.0 <= self.mutation_prob <= 1.0:
            raise ValueError(f"mutation_prob must lie in [0, 1], got {self.mutation_prob}")

    @classmethod
    def nlp(cls) -> "EvolutionSettings":
        """HAT's settings used for NLP (ShiftAddNAS Sec. 4.1): 30 iterations, 125 / 25 / 50 @ 0.3 / 50."""
        return cls(iterations=30, population=125, parents=25, mutations=50, mutation_prob=0.3, crossovers=50)

    @classmethod
    def cv(cls) -> "EvolutionSettings":
        """AutoFormer's settings used for CV (Sec. 4.1): 20 iterations, 50 / 10 / 25 @ 0.2 / 25."""
        return cls(iterations=20, population=50, parents=10, mutations=25, mutation_prob=0.2, crossovers=25)

    def scaled(self, iterations: int, population: int) -> "EvolutionSettings":
        """The same proportions with another iteration count and population size (at least one each)."""
        ratio = population / self.population
        return replace(self, iterations=iterations, population=population,
                       parents=max(1, min(population, round(self.parents * ratio))),
                       mutations=max(1, round(self.mutations * ratio)),
                       crossovers=max(1, round(self.crossovers * ratio)))


@dataclass
class EvolutionResult:
    """The fittest config found, its fitness, and per-iteration statistics."""
    best: Config
    best_fitness: float
    history: list[dict] = field(default_factory=list)
    evaluated: int = 0


def _key(config: Config) -> str:
    return json.dumps(config, sort_keys=True)


def _draw(make: Callable[[], Config], constraint: Callable[[Config], bool] | None, tries: int, what: str) -> Config:
    for _ in range(tries):
        cand = make()
        if constraint is None or constraint(cand):
            return cand
    raise ConstraintUnsatisfiable(f"no {what} met the constraint in {tries} tries; loosen the constraint "
                                  "or raise EvolutionSettings.max_tries")


def evolutionary_search(space: SearchSpace, fitness: Callable[[Config], float], settings: EvolutionSettings,
                        constraint: Callable[[Config], bool] | None = None, seed: int = 0,
                        desc: str = "evolution") -> EvolutionResult:
    """Maximise ``fitness`` over ``space`` subject to ``constraint`` (each config evaluated once)."""
    rng = random.Random(seed)
    scores: dict[str, float] = {}

    def score(cfg: Config) -> float:
        k = _key(cfg)
        if k not in scores:
            scores[k] = float(fitness(cfg))
        return scores[k]

    population = [_draw(lambda: space.sample(rng), constraint, settings.max_tries, "random sample")
                  for _ in range(settings.population)]
    history: list[dict] = []
    best: Config | None = None
    best_fit = float("-inf")
    bar = tqdm(range(settings.iterations), desc=desc, leave=False)
    for it in bar:
        ranked = sorted(population, key=score, reverse=True)
        fits = [score(c) for c in ranked]
        if fits[0] > best_fit:
            best, best_fit = ranked[0], fits[0]
        history.append({"iteration": it, "best_fitness": best_fit, "population_best": fits[0],
                        "population_mean": sum(fits) / len(fits), "evaluated": len(scores)})
        bar.set_postfix(best=f"{best_fit:.4g}")
        if it == settings.iterations - 1:
            break
        parents = ranked[:settings.parents]
        mutants = [_draw(lambda: space.mutate(rng.choice(parents), settings.mutation_prob, rng), constraint,
                         settings.max_tries, "mutation") for _ in range(settings.mutations)]
        pick = lambda: rng.sample(parents, 2) if len(parents) > 1 else parents * 2  # noqa: E731
        children = [_draw(lambda: space.crossover(*pick(), rng), constraint, settings.max_tries, "crossover")
                    for _ in range(settings.crossovers)]
        population = parents + mutants + children
    assert best is not None
    return EvolutionResult(best=best, best_fitness=best_fit, history=history, evaluated=len(scores))
