"""The ShiftAddNAS CV space (Table 2): sampling, validation, size, encoding, analytic MACs."""
from __future__ import annotations

import itertools
import random

import pytest

from repro.spaces.base import InvalidConfig
from repro.spaces.shiftaddnas_cv import (BLOCK_TYPES, PAPER_FIG8, SCALES, CVSpaceDims, ShiftAddNASCVSpace, Stage,
                                         dims_for)


def _enumerate(space):
    """Every config of a space by brute force (a naive reference for ``size``)."""
    per_stage = [[list(t) for d in st.depths for t in itertools.product(range(4), repeat=d)]
                 for st in space.stages]
    for combo in itertools.product(*per_stage):
        yield {"stages": [list(s) for s in combo]}


def test_paper_space_matches_table2():
    space = ShiftAddNASCVSpace("paper")
    assert [(s.resolution, s.channels) for s in space.stages] == [(56, 128), (28, 256), (14, 512), (7, 1024)]
    assert [s.depths for s in space.stages] == [(1, 2, 3, 4), (1, 2, 3, 4), (3, 4, 5, 6, 7), (4, 5, 6, 7, 8, 9)]
    assert BLOCK_TYPES == ("Attn", "Conv", "Add", "Shift")
    space.validate(PAPER_FIG8)
    # hand count: stages 1-2: 4+16+64+256 = 340; stage 3: 4^3+..+4^7 = 21824; stage 4: 4^4+..+4^9 = 349440
    assert space.size() == 340 * 340 * 21824 * 349440


def test_size_equals_brute_force_on_a_small_space():
    small = CVSpaceDims(28, 1, 10, 2, (Stage(14, 8, (1, 2)), Stage(7, 8, (1,)), Stage(4, 8, (1, 3)),
                                       Stage(2, 8, (2,))), heads=2)
    space = ShiftAddNASCVSpace(small)
    assert space.size() == (4 + 16) * 4 * (4 + 64) * 16
    assert space.size() == sum(1 for _ in _enumerate(space))


def test_sample_mutate_crossover_stay_valid_and_cover_choices():
    space = ShiftAddNASCVSpace("small")
    rng = random.Random(0)
    seen_types, seen_depths = set(), set()
    for _ in range(300):
        a, b = space.sample(rng), space.sample(rng)
        for cfg in (a, space.mutate(a, 0.5, rng), space.crossover(a, b, rng)):
            space.validate(cfg)
        seen_types |= {t for layers in a["stages"] for t in layers}
        seen_depths |= {(i, len(layers)) for i, layers in enumerate(a["stages"])}
    assert seen_types == {0, 1, 2, 3}
    assert seen_depths == {(i, d) for i, st in enumerate(space.stages) for d in st.depths}


def test_mutation_probability_zero_is_identity_and_crossover_of_twins_is_a_twin():
    space = ShiftAddNASCVSpace("paper")
    rng = random.Random(1)
    assert space.mutate(PAPER_FIG8, 0.0, rng) == PAPER_FIG8
    assert space.crossover(PAPER_FIG8, PAPER_FIG8, rng) == PAPER_FIG8


@pytest.mark.parametrize("bad, names", [
    ({"stages": [[1], [1], [1], [1, 1, 1, 1]]}, "valid depths: [3, 4, 5, 6, 7]"),
    ({"stages": [[7], [1], [1, 1, 1], [1, 1, 1, 1]]}, "valid codes: {0: 'Attn', 1: 'Conv', 2: 'Add', 3: 'Shift'}"),
    ({"blocks": []}, "got keys ['blocks']"),
    ({"stages": [[1]]}, "expected 4 stages"),
])
def test_invalid_config_names_the_valid_choices(bad, names):
    with pytest.raises(InvalidConfig) as err:
        ShiftAddNASCVSpace("paper").validate(bad)
    assert names in str(err.value)


def test_inconsistent_dims_are_rejected():
    with pytest.raises(ValueError, match=r"resolution 28 is not in \(14,\)"):
        CVSpaceDims(28, 1, 10, 2, (Stage(28, 8, (1,)),), heads=2)
    with pytest.raises(ValueError, match=r"stage 1 resolution 4 is not in \(14, 7\)"):  # quartered
        CVSpaceDims(28, 1, 10, 2, (Stage(14, 8, (1,)), Stage(4, 8, (1,))), heads=2)
    CVSpaceDims(28, 1, 10, 2, (Stage(14, 8, (1,)), Stage(14, 8, (1,))), heads=2)  # kept (T1's last stage)
    with pytest.raises(ValueError, match="expansion 4 must divide 6 channels"):
        CVSpaceDims(28, 1, 10, 2, (Stage(14, 6, (1,)),), heads=1, block="bottleneck")
    with pytest.raises(ValueError, match="valid: basic, bottleneck"):
        CVSpaceDims(28, 1, 10, 2, (Stage(14, 8, (1,)),), heads=1, block="wide")
    with pytest.raises(ValueError, match="ResNet stem has stride 4"):
        CVSpaceDims(28, 1, 10, 2, (Stage(14, 8, (1,)),), heads=1, resnet_stem=True)


def test_unknown_scale_names_the_valid_ones():
    with pytest.raises(InvalidConfig, match="valid scales: paper, small, tiny"):
        dims_for("huge")


def test_encoding_is_fixed_length_one_hot():
    space = ShiftAddNASCVSpace("paper")
    vec = space.encode(PAPER_FIG8)
    assert len(vec) == 4 * (4 + 4 + 7 + 9)
    assert sum(vec) == 2 + 4 + 5 + 5
    # stage 3 (offset 4*(4+4) = 32), layer 0 is Shift (code 3)
    assert vec[32:36] == [0.0, 0.0, 0.0, 1.0]


def test_macs_by_hand_for_a_tiny_all_conv_subnet():
    d = SCALES["tiny"]
    space = ShiftAddNASCVSpace(d)
    cfg = {"stages": [[1], [1], [1], [1]]}
    c, r = [s.channels for s in d.stages], [s.resolution for s in d.stages]
    expected = 1 * c[0] * 2 * 2 * r[0] ** 2  # stem: 2x2 stride-2 patchify
    expected += sum(c[i - 1] * c[i] * 9 * r[i] ** 2 for i in range(1, 4))  # transitions
    expected += sum(2 * 9 * c[i] ** 2 * r[i] ** 2 for i in range(4))  # two 3x3 convs per block
    expected += c[3] * 10  # classifier
    assert space.macs(cfg) == expected


def test_retrained_dims_double_the_paper_widths_and_leave_the_reduced_scales_alone():
    paper = dims_for("paper")
    wide = paper.retrained()
    assert [st.channels for st in wide.stages] == [2 * st.channels for st in paper.stages]
    assert wide.retrain_width == 1 and wide.retrained() == wide
    assert [st.depths for st in wide.stages] == [st.depths for st in paper.stages]
    for scale in ("small", "tiny"):  # the reduced scales retrain at the supernet's widths
        assert dims_for(scale).retrained() == dims_for(scale)
