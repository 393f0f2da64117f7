"""The ShiftAddNAS NLP space (Table 1): sampling, validation, mutation/crossover, size, paper-scale costs."""
from __future__ import annotations

import itertools
import random

import pytest

from repro.spaces.base import InvalidConfig
from repro.spaces.shiftaddnas_nlp import (DECODER_TYPES, ENCODER_TYPES, NlpSpaceDims, ShiftAddNASNLPSpace,
                                          dims_for)


@pytest.fixture
def space():
    return ShiftAddNASNLPSpace("tiny")


def test_samples_are_valid_and_cover_every_choice(space):
    rng = random.Random(0)
    seen = {k: set() for k in space.choices()}
    for _ in range(300):
        cfg = space.sample(rng)
        space.validate(cfg)
        for k, v in cfg.items():
            seen[k].update(v if isinstance(v, list) else [v])
    assert seen["encoder_types"] == set(ENCODER_TYPES)
    assert seen["decoder_types"] == set(DECODER_TYPES)  # Conv / Shift / Add alone never in the decoder
    for k, values in space.choices().items():
        assert seen[k] == set(values), k


@pytest.mark.parametrize("key,value,named", [
    ("embed", 100, "[128, 96, 64]"),
    ("decoder_layers", 7, "[1, 2, 3]"),
])
def test_invalid_choice_names_the_valid_ones(space, key, value, named):
    cfg = space.sample(random.Random(1))
    cfg[key] = value
    with pytest.raises(InvalidConfig, match=named.replace("[", r"\[").replace("]", r"\]")):
        space.validate(cfg)


def test_invalid_layer_choice_and_keys(space):
    cfg = space.sample(random.Random(2))
    cfg["decoder_types"][0] = "Conv"
    with pytest.raises(InvalidConfig, match=r"decoder_types\[0\].*'Attn', 'Attn\+Conv'"):
        space.validate(cfg)
    cfg = space.sample(random.Random(2))
    del cfg["embed"]
    cfg["width"] = 3
    with pytest.raises(InvalidConfig, match="unknown \\['width'\\], missing \\['embed'\\]"):
        space.validate(cfg)
    with pytest.raises(InvalidConfig, match="valid scales: paper, small, tiny"):
        dims_for("huge")


def test_mutation_and_crossover_stay_in_space(space):
    rng = random.Random(3)
    a, b = space.sample(rng), space.sample(rng)
    assert space.mutate(a, 0.0, rng) == a
    for _ in range(50):
        space.validate(space.mutate(a, 0.3, rng))
        child = space.crossover(a, b, rng)
        space.validate(child)
        for k in child:
            pairs = zip(child[k], a[k], b[k]) if isinstance(child[k], list) else [(child[k], a[k], b[k])]
            assert all(c in (x, y) for c, x, y in pairs)


def test_size_matches_brute_force_enumeration():
    dims = NlpSpaceDims(encoder_layers=1, decoder_layers=(1, 2), embed=(4, 2), heads=(2,), mlp=(8, 4),
                        arbitrary=(1,))
    space = ShiftAddNASNLPSpace(dims)
    distinct = set()
    lists = [ENCODER_TYPES, [2], [8, 4]]
    dec = list(itertools.product(DECODER_TYPES, [2], [8, 4], [1]))
    for emb, enc in itertools.product([4, 2], itertools.product(*lists)):
        for n in (1, 2):
            for layers in itertools.product(dec, repeat=n):
                distinct.add((emb, enc, n, layers))
    assert space.size() == len(distinct) == 2 * 14 * (8 + 64)


def test_paper_scale_transformer_big_counts():
    """HAT's convention gives Transformer-Big 176M params and 10.6 GFLOPs (Table 3, first row)."""
    space = ShiftAddNASNLPSpace("paper")
    big = space.transformer()
    assert round(space.params(big) / 1e6) == 176
    assert round(space.flops(big) / 1e9, 1) == 10.6
    assert space.size() == 3 * 84 ** 6 * sum(144 ** n for n in range(1, 7))


def test_encoding_is_fixed_length_and_ignores_inactive_decoder_layers(space):
    rng = random.Random(4)
    cfg = space.sample(rng)
    cfg["decoder_layers"] = 1
    other = {**cfg, "decoder_types": [cfg["decoder_types"][0]] + ["Attn+Add"] * 2}
    assert space.encode(cfg) == space.encode(other)
    assert len(space.encode(cfg)) == len(space.encode(space.sample(rng)))
