"""The elastic layers (repro.ops.elastic) against plain torch layers built on the copied sub-weights."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.cost.counting import count
from repro.ops.elastic import ElasticConv2d, ElasticLayerNorm, ElasticLinear, kernel_masks


def _randomise(module: nn.Module) -> nn.Module:
    """LayerNorm and bias start at constants: randomise every parameter so slicing errors show."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p))
    return module


@pytest.mark.parametrize("cls, args", [(ElasticLinear, (7, 5)), (ElasticLayerNorm, (6,)),
                                       (ElasticConv2d, (3, 4, 5))])
def test_same_parameters_keys_and_initialisation_as_the_plain_layer(cls, args):
    plain = cls.__mro__[1]
    torch.manual_seed(0)
    mine = cls(*args)
    torch.manual_seed(0)
    ref = plain(*args)
    assert list(mine.state_dict()) == list(ref.state_dict())
    for a, b in zip(mine.parameters(), ref.parameters()):
        assert torch.equal(a, b)
    x = torch.randn(2, 3, 9, 9) if cls is ElasticConv2d else torch.randn(2, args[0])
    assert torch.equal(mine(x), ref(x))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("out_features, in_features", [(3, 4), (7, 2), (1, 6), (None, 6)])
def test_sliced_linear_is_a_linear_on_the_front_slice(out_features, in_features, bias):
    torch.manual_seed(0)
    layer = _randomise(ElasticLinear(6, 7, bias=bias)).double()
    out = 7 if out_features is None else out_features
    ref = nn.Linear(in_features, out, bias=bias).double()
    with torch.no_grad():
        ref.weight.copy_(layer.weight[:out, :in_features])
        if bias:
            ref.bias.copy_(layer.bias[:out])
    x = torch.randn(2, 5, in_features, dtype=torch.float64)
    torch.testing.assert_close(layer.sliced(x, out_features), ref(x))


@pytest.mark.parametrize("width", [2, 5, 8])
def test_sliced_layer_norm_is_a_layer_norm_of_the_first_channels(width):
    torch.manual_seed(0)
    norm = _randomise(ElasticLayerNorm(8, eps=1e-3)).double()
    ref = nn.LayerNorm(width, eps=1e-3).double()
    with torch.no_grad():
        ref.weight.copy_(norm.weight[:width])
        ref.bias.copy_(norm.bias[:width])
    x = torch.randn(3, 4, width, dtype=torch.float64)
    torch.testing.assert_close(norm.sliced(x), ref(x))


@pytest.mark.parametrize("width", [2, 5, 8])
def test_masked_layer_norm_on_a_prefix_mask_is_the_sliced_norm_padded_with_zeros(width):
    torch.manual_seed(0)
    norm = _randomise(ElasticLayerNorm(8)).double()
    x = torch.randn(3, 4, 8, dtype=torch.float64)     # the masked-off channels hold values: they must not count
    mask = (torch.arange(8) < width).double()
    expected = F.pad(norm.sliced(x[..., :width]), (0, 8 - width))
    torch.testing.assert_close(norm.masked(x, mask), expected)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("c_out, c_in, k, stride", [(3, 2, 3, 1), (5, 4, 5, 2), (1, 4, 1, 1), (5, 1, 3, 2)])
def test_sliced_conv_is_a_conv_with_the_centre_cropped_kernel(c_out, c_in, k, stride, bias):
    torch.manual_seed(0)
    conv = _randomise(ElasticConv2d(4, 5, 5, stride, padding=2, bias=bias)).double()
    lo = (5 - k) // 2
    ref = nn.Conv2d(c_in, c_out, k, stride, padding=k // 2, bias=bias).double()
    with torch.no_grad():
        ref.weight.copy_(conv.weight[:c_out, :c_in, lo:lo + k, lo:lo + k])
        if bias:
            ref.bias.copy_(conv.bias[:c_out])
    x = torch.randn(2, c_in, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(conv.sliced(x, c_out, k), ref(x))


def test_sliced_conv_defaults_to_the_whole_layer():
    torch.manual_seed(0)
    conv = _randomise(ElasticConv2d(3, 4, 3, padding=1))
    x = torch.randn(2, 3, 6, 6)
    assert torch.equal(conv.sliced(x), conv(x))


@pytest.mark.parametrize("c_out, c_in, k", [(3, 2, 3), (5, 4, 5), (2, 4, 1)])
def test_masked_conv_on_prefix_masks_is_the_sliced_conv_padded_with_zeros(c_out, c_in, k):
    torch.manual_seed(0)
    conv = _randomise(ElasticConv2d(4, 5, 5, 2, padding=2)).double()
    kernel = kernel_masks((1, 3, 5))[(1, 3, 5).index(k)].double()
    x = torch.randn(2, c_in, 9, 9, dtype=torch.float64)
    channels = (torch.arange(5) < c_out).double()[:, None, None]
    masked = conv.masked(F.pad(x, (0, 0, 0, 0, 0, 4 - c_in)), kernel) * channels   # zero input channels past c_in
    torch.testing.assert_close(masked, F.pad(conv.sliced(x, c_out, k), (0, 0, 0, 0, 0, 5 - c_out)))


def test_kernel_masks_are_centred_windows():
    masks = kernel_masks((1, 3, 5))
    assert masks.shape == (3, 5, 5)
    assert masks[0, 2, 2] == 1 and masks[0].sum() == 1
    assert torch.equal(masks[1], F.pad(torch.ones(3, 3), (1, 1, 1, 1)))
    assert torch.equal(masks[2], torch.ones(5, 5))


def test_unsupported_convolutions_are_refused():
    for kwargs in ({"groups": 2}, {"dilation": 2}, {"padding": "same"}, {"padding_mode": "reflect"},
                   {"kernel_size": (3, 5)}):
        with pytest.raises(ValueError, match="ElasticConv2d supports"):
            ElasticConv2d(4, 4, **{"kernel_size": 3, **kwargs})


class _Sliced(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ElasticLinear(8, 6)
        self.conv = ElasticConv2d(3, 4, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv.sliced(x[:, :2], 3, 3)
        return self.fc.sliced(y.mean((2, 3)), 2)


def test_cost_counting_plain_forward_as_the_plain_layer_and_sliced_forms_on_their_slices():
    assert count(ElasticLinear(64, 32), (1, 10, 64)).macs == count(nn.Linear(64, 32), (1, 10, 64)).macs
    assert (count(ElasticConv2d(3, 8, 3, stride=2, padding=1), (1, 3, 32, 32)).macs
            == count(nn.Conv2d(3, 8, 3, stride=2, padding=1), (1, 3, 32, 32)).macs)
    c = count(_Sliced(), (1, 3, 8, 8))
    assert c.macs == 3 * 8 * 8 * 2 * 3 * 3 + 3 * 2
