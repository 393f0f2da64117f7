"""Evolutionary search: the papers' settings, constraint rejection, improvement on a toy fitness."""
from __future__ import annotations

import pytest

from repro.search.evolution import ConstraintUnsatisfiable, EvolutionSettings, evolutionary_search
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace


def _conv_count(cfg):
    return sum(t == 1 for layers in cfg["stages"] for t in layers)


def _depth(cfg):
    return sum(len(layers) for layers in cfg["stages"])


def test_paper_settings():
    nlp, cv = EvolutionSettings.nlp(), EvolutionSettings.cv()
    assert (nlp.iterations, nlp.population, nlp.parents, nlp.mutations, nlp.mutation_prob, nlp.crossovers) == \
        (30, 125, 25, 50, 0.3, 50)
    assert (cv.iterations, cv.population, cv.parents, cv.mutations, cv.mutation_prob, cv.crossovers) == \
        (20, 50, 10, 25, 0.2, 25)
    small = cv.scaled(iterations=3, population=10)
    assert (small.iterations, small.population, small.parents, small.mutations, small.crossovers) == (3, 10, 2, 5, 5)


@pytest.mark.parametrize("kw", [dict(parents=60), dict(mutation_prob=1.5), dict(iterations=0)])


def test_invalid_settings_are_rejected(kw):
    base = dict(iterations=2, population=50, parents=10, mutations=25, mutation_prob=0.2, crossovers=25)
    with pytest.raises(ValueError):
        EvolutionSettings(**{**base, **kw})


def test_evolution_improves_a_toy_fitness_and_respects_the_constraint():
    space = ShiftAddNASCVSpace("paper")
    settings = EvolutionSettings.cv().scaled(iterations=8, population=20)
    limit = 14
    checked = []

    def constraint(cfg):
        checked.append(cfg)
        return _depth(cfg) <= limit

    result = evolutionary_search(space, _conv_count, settings, constraint=constraint, seed=0)
    # the best random sample of the first generation is the baseline the search must beat
    assert result.best_fitness > result.history[0]["population_best"]
    assert result.history[-1]["best_fitness"] == result.best_fitness == _conv_count(result.best)
    assert [h["best_fitness"] for h in result.history] == sorted(h["best_fitness"] for h in result.history)
    assert _depth(result.best) <= limit
    assert any(_depth(c) > limit for c in checked)  # some candidates were indeed rejected


def test_unsatisfiable_constraint_raises_a_clear_error():
    space = ShiftAddNASCVSpace("tiny")
    settings = EvolutionSettings(iterations=1, population=2, parents=1, mutations=1, mutation_prob=0.2,
                                 crossovers=1, max_tries=20)
    with pytest.raises(ConstraintUnsatisfiable, match="loosen the constraint"):
        evolutionary_search(space, _conv_count, settings, constraint=lambda c: False)


def test_same_seed_same_result():
    space = ShiftAddNASCVSpace("tiny")
    settings = EvolutionSettings.cv().scaled(iterations=3, population=8)
    a = evolutionary_search(space, _conv_count, settings, seed=3)
    b = evolutionary_search(space, _conv_count, settings, seed=3)
    assert a.best == b.best and a.history == b.history
