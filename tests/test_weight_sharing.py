"""Heterogeneous weight sharing: the transformation kernel, the KL estimates, the layer's modes."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from repro.ops.adder import adder_conv2d
from repro.ops.shift import clamp_shares, init_std, round_to_power_of_two
from repro.ops.weight_sharing import (ReleasedTransformationKernel, SharedConv2d, TransformationKernel,
                                      excess_kurtosis, fit_kernel, gaussian_kl, kernel_param_groups, laplace_kl,
                                      shared_parameter_count, vasicek_entropy)


def test_kernel_scales_equal_segments_of_sorted_weights():
    w = torch.tensor([[0.3, -1.0], [2.0, 0.1], [-0.2, 0.5]])  # 6 weights, 3 segments of 2 sorted values
    k = TransformationKernel(num_segments=3)
    with torch.no_grad():
        k.alpha.copy_(torch.tensor([2.0, 1.0, 3.0]))
    # sorted: -1.0, -0.2 | 0.1, 0.3 | 0.5, 2.0 -> scaled by 2 | 1 | 3, put back in place
    expected = torch.tensor([[0.3, -2.0], [6.0, 0.1], [-0.4, 1.5]])
    assert torch.allclose(k(w), expected)


def test_kernel_keeps_order_and_gets_gradients():
    torch.manual_seed(0)
    w = torch.randn(1000, requires_grad=True)
    k = TransformationKernel(200)
    with torch.no_grad():
        k.alpha.uniform_(0.5, 2.0)  # alphas that would break the order of Eq. 6 at segment boundaries
    out = k(w)
    assert torch.equal(torch.argsort(out), torch.argsort(w))
    out.pow(2).sum().backward()
    assert w.grad.abs().sum() > 0 and k.alpha.grad.abs().sum() > 0


def test_released_kernel_keeps_largest_weight():
    w = torch.tensor([-1.0, 0.0, 0.5, 1.0])
    k = ReleasedTransformationKernel(num_bins=2)
    with torch.no_grad():
        k.alpha.copy_(torch.tensor([2.0, 3.0]))
    assert k(w).tolist() == [-2.0, 0.0, 1.5, 3.0]  # the released code would give 0 for the last one


def test_vasicek_entropy_and_kl_on_known_distributions():
    torch.manual_seed(1)
    g = torch.randn(20000)
    lap = torch.distributions.Laplace(0.0, 1.0).sample((20000,))
    assert abs(vasicek_entropy(g).item() - 0.5 * math.log(2 * math.pi * math.e)) < 0.05
    assert abs(vasicek_entropy(lap).item() - (1 + math.log(2))) < 0.05
    assert gaussian_kl(g) < 0.03 and laplace_kl(lap) < 0.03
    assert laplace_kl(g) > 0.05 and gaussian_kl(lap) > 0.05  # the wrong target costs more
    # Shape-sensitive: a uniform with the Gaussian's mean and variance is far from N(0, 1).
    uniform = (torch.rand(20000) - 0.5) * math.sqrt(12)
    assert gaussian_kl(uniform) > 0.1


@pytest.mark.parametrize("n, m", [(4, None), (5, 2), (9, None), (100, 3), (36864, None)])
def test_vasicek_spacings_equal_the_clamped_index_formula(n, m):
    """The sliced spacings equal ``x[min(i + m, n - 1)] - x[max(i - m, 0)]`` written with an index gather:
    the same value, and the same gradient to float rounding (only the order of the sums differs)."""
    torch.manual_seed(n)
    w = torch.randn(n, dtype=torch.double, requires_grad=True)
    x = torch.sort(w).values
    k = m or max(1, round(math.sqrt(n) / 2))
    i = torch.arange(n)
    ref = torch.log((x[(i + k).clamp(max=n - 1)] - x[(i - k).clamp(min=0)]).clamp_min(1e-12) * n / (2 * k)).mean()
    (g_ref,) = torch.autograd.grad(ref, w)
    got = vasicek_entropy(w, m)
    (g_got,) = torch.autograd.grad(got, w)
    assert got.item() == ref.item()
    torch.testing.assert_close(g_got, g_ref, rtol=1e-12, atol=1e-15)


def test_fitting_the_kernel_lowers_kl_and_raises_kurtosis():
    torch.manual_seed(2)
    w = torch.randn(2000)
    k = TransformationKernel(200)
    history = fit_kernel(k, w, steps=60, lr=0.1)
    assert history[-1] < 0.5 * history[0]
    before, after = excess_kurtosis(w), excess_kurtosis(k(w))
    assert abs(before) < 0.3 and after > before + 0.8  # towards a Laplace's 3, not all the way


def test_excess_kurtosis_hand_value():
    assert math.isclose(excess_kurtosis(torch.tensor([-1.0, 1.0])), -2.0)


@pytest.mark.parametrize("sharing", ["heterogeneous", "naive", "none"])
def test_parameter_counts_of_the_three_modes(sharing):
    layer = SharedConv2d(4, 6, 3, sharing=sharing)
    pool = 6 * 4 * 9
    expected = {"heterogeneous": pool + 200, "naive": pool, "none": 3 * pool}[sharing]
    assert sum(p.numel() for p in layer.parameters()) == expected == shared_parameter_count(4, 6, 3, sharing)
    assert shared_parameter_count(4, 6, 3, "heterogeneous", kernel="released") == pool + 100


def test_views_and_front_slices():
    torch.manual_seed(3)
    layer = SharedConv2d(4, 6, 3, padding=1)
    x = torch.randn(2, 3, 5, 5)
    pool = layer.pool.weights["pool"]
    conv = layer.set_op("conv")(x, out_channels=5, in_channels=3)
    assert torch.allclose(conv, F.conv2d(x, pool[:5, :3], padding=1), atol=1e-5)
    shift = layer.set_op("shift")(x, 5, 3)
    expected = round_to_power_of_two(init_std(4 * 9) * pool)[:5, :3]
    assert torch.allclose(shift, F.conv2d(x, expected, padding=1), atol=1e-6)
    add = layer.set_op("add")(x, 5, 3)
    assert torch.allclose(add, adder_conv2d(x, layer.pool.transform(pool)[:5, :3], padding=1), atol=1e-4)


def test_regularization_loss_by_mode_and_kernel():
    torch.manual_seed(4)
    het = SharedConv2d(8, 8, 3)
    pool = het.pool.weights["pool"]
    assert torch.isclose(het.regularization_loss(), gaussian_kl(pool) + laplace_kl(het.pool.transform(pool)))
    rel = SharedConv2d(8, 8, 3, kernel="released")
    assert torch.isclose(rel.regularization_loss(), 10 * laplace_kl(rel.pool.transform(rel.pool.weights["pool"])))
    assert SharedConv2d(8, 8, 3, sharing="naive").regularization_loss().item() == 0.0
    het.regularization_loss().backward()
    assert pool.grad is not None and het.pool.transform.alpha.grad is not None


def test_bad_arguments():
    with pytest.raises(ValueError, match="valid choices: 'heterogeneous', 'naive', 'none'"):
        SharedConv2d(4, 4, 3, sharing="full")
    with pytest.raises(ValueError, match="kernel"):
        SharedConv2d(4, 4, 3, kernel="mine")
    with pytest.raises(ValueError, match="'conv', 'add', 'shift'"):
        SharedConv2d(4, 4, 3).set_op("attn")
    with pytest.raises(ValueError, match="widths"):
        SharedConv2d(4, 4, 3)(torch.randn(1, 4, 5, 5), out_channels=5)
    with pytest.raises(ValueError, match="num_segments"):
        TransformationKernel(0)


def _reference_kl(pool: torch.Tensor, kernel: TransformationKernel) -> torch.Tensor:
    """Eq. 5's KL part computed the direct way: four sorts, no cache."""
    return gaussian_kl(pool) + laplace_kl(kernel._compute(pool)[0])


def test_shared_sort_gives_the_same_kl_and_gradients():
    torch.manual_seed(0)
    layer = SharedConv2d(6, 8, 3, padding=1)
    with torch.no_grad():
        layer.pool.transform.alpha.uniform_(0.5, 1.5)
    x = torch.randn(2, 6, 5, 5)
    ref_pool = layer.pool.weights["pool"].detach().clone().requires_grad_()
    ref_kernel = copy.deepcopy(layer.pool.transform)
    # reference: Add view and KL each with their own sorts
    ref_w = ref_kernel._compute(ref_pool)[0]
    ref_loss = adder_conv2d(x, ref_w, 1, 1, eta=None).sum() * 1e-3 + _reference_kl(ref_pool, ref_kernel)
    ref_loss.backward()
    layer.eta = None
    loss = layer.set_op("add")(x).sum() * 1e-3 + layer.regularization_loss()
    loss.backward()
    torch.testing.assert_close(loss, ref_loss, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(layer.pool.weights["pool"].grad, ref_pool.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(layer.pool.transform.alpha.grad, ref_kernel.alpha.grad, rtol=1e-5, atol=1e-6)


def test_cached_views_follow_the_optimizer_and_survive_accumulation():
    torch.manual_seed(1)
    layer = SharedConv2d(4, 4, 3, padding=1).set_op("add")
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    x = torch.randn(2, 4, 5, 5)
    for _ in range(2):  # two micro-batches on unchanged weights: the second recomputes after backward
        (layer(x).mean() + layer.regularization_loss()).backward()
    opt.step()
    pool = layer.pool.weights["pool"]
    after = layer.view("add")
    torch.testing.assert_close(after, layer.pool.transform._compute(pool)[0])  # the cache saw the step
    copy.deepcopy(layer)  # a module holding a step's graph can still be copied
    with torch.no_grad():
        torch.testing.assert_close(layer.view("add"), after)


def test_warm_started_sort_equals_a_sort_from_scratch_across_steps():
    """The kernel sorts each step's pool in the previous step's order; its views and their gradients must
    equal those of a kernel that sorts from scratch (a deep copy carries no order hint)."""
    torch.manual_seed(2)
    layer = SharedConv2d(6, 8, 3, padding=1).set_op("add")
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    x = torch.randn(2, 6, 5, 5)
    for _ in range(3):
        fresh = copy.deepcopy(layer.pool.transform)
        assert fresh._order_hint is None
        pool = layer.pool.weights["pool"]
        ref_pool = pool.detach().clone().requires_grad_()
        out, ref = layer.pool.transform._compute(pool), fresh._compute(ref_pool)
        for a, b in zip(out, ref):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        (grad,) = torch.autograd.grad(out[0].square().sum() + out[1].sum() * out[2].mean(), pool)
        (ref_grad,) = torch.autograd.grad(ref[0].square().sum() + ref[1].sum() * ref[2].mean(), ref_pool)
        torch.testing.assert_close(grad, ref_grad)
        opt.zero_grad()
        (layer(x).mean() + layer.regularization_loss()).backward()
        opt.step()
    assert layer.pool.transform._order_hint is not None


def test_shift_view_does_not_saturate_on_a_unit_variance_pool():
    torch.manual_seed(5)
    layer = SharedConv2d(64, 64, 3)  # the widest stage of the tiny CV space
    pool = layer.pool.weights["pool"].detach()
    assert pool.std().item() == pytest.approx(1.0, abs=0.01)
    raw, scaled = clamp_shares(pool), clamp_shares(layer.shift_scale * pool)
    assert raw["top level"] == pytest.approx(0.48, abs=0.01) and raw["clipped above"] == pytest.approx(0.32, abs=0.01)
    assert scaled["top level"] == 0.0 and scaled["clipped above"] == 0.0 and scaled["clipped below"] < 0.005
    q = layer.view("shift")
    assert torch.equal(q.abs().log2(), q.abs().log2().round())  # powers of two, as the standalone Shift layer holds
    assert layer.shift_scale == pytest.approx(1 / math.sqrt(3 * 64 * 9))


def test_kernel_param_groups_split_the_alphas_off():
    model = torch.nn.Sequential(SharedConv2d(2, 3, 3), SharedConv2d(3, 3, 3, kernel="released"),
                                SharedConv2d(3, 2, 3, sharing="naive"))
    rest, alphas = kernel_param_groups(model, 0.05)
    assert {id(p) for p in alphas["params"]} == {id(model[0].pool.transform.alpha), id(model[1].pool.transform.alpha)}
    assert (alphas["lr"], alphas["weight_decay"]) == (0.05, 0.0) and set(rest) == {"params"}
    assert len(rest["params"]) + len(alphas["params"]) == len(list(model.parameters()))
    assert len(kernel_param_groups(model[2], 0.05)) == 1  # no kernel, one group
    with pytest.raises(ValueError, match="kernel_lr"):
        kernel_param_groups(model, 0.0)


def _native_or_skip():
    from repro.ops import native

    if native.load("sharing") is None:
        pytest.skip("the native sharing kernel cannot be built here (no compiler)")


@pytest.mark.parametrize("n, segments", [(64, 200), (576, 200), (1000, 7), (9216, 200)])
def test_native_kernel_and_kl_equal_the_pytorch_path_across_steps(monkeypatch, n, segments):
    """csrc/sharing.cpp computes T(pool), both KL terms and their gradients (pool and alphas) as the PyTorch
    path does, in float64 to the last bits, over three optimiser-like steps (n not a multiple of d, and fewer
    weights than segments, included)."""
    _native_or_skip()
    torch.manual_seed(n)
    base, g = torch.randn(n, dtype=torch.float64), torch.randn(n, dtype=torch.float64)
    alpha = torch.empty(segments, dtype=torch.float64).uniform_(0.6, 1.5)  # not monotone: the re-sort matters
    moves = [(1e-3 * torch.randn(n, dtype=torch.float64), 1e-3 * torch.randn(segments, dtype=torch.float64))
             for _ in range(3)]
    runs = {}
    for backend in ("torch", "native"):
        monkeypatch.setenv("REPRO_SHARING_BACKEND", backend)
        kernel = TransformationKernel(segments).double()
        with torch.no_grad():
            kernel.alpha.copy_(alpha)
        w = torch.nn.Parameter(base.clone())
        runs[backend] = []
        for dw, da in moves:
            t, kl = kernel.with_kl(w)
            w.grad = kernel.alpha.grad = None
            ((t * g).sum() + 0.7 * kl).backward()
            runs[backend].append((t.detach().clone(), kl.detach().clone(), w.grad.clone(), kernel.alpha.grad.clone()))
            with torch.no_grad():
                w.add_(dw)
                kernel.alpha.add_(da)
    for ours, ref in zip(runs["native"], runs["torch"]):
        for a, b in zip(ours, ref):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_native_radix_sort_orders_every_sign_and_magnitude(monkeypatch, dtype):
    """The native sorts are radix sorts of the floats' bit patterns: weights of both signs over 30 orders of
    magnitude, zeros of both signs and a pair of opposite weights (+-1.5) must come out as torch.sort's."""
    _native_or_skip()
    torch.manual_seed(7)
    n = 5000
    w = torch.randn(n, dtype=torch.float64) * torch.logspace(-15, 15, n, dtype=torch.float64)[torch.randperm(n)]
    w[:4] = torch.tensor([0.0, -0.0, 1.5, -1.5])
    w = w.to(dtype)
    kernel = TransformationKernel(1)  # alpha = 1: T(pool) is the pool, its sorted copy torch.sort's
    monkeypatch.setenv("REPRO_SHARING_BACKEND", "native")
    t, _ = kernel.to(dtype).with_kl(torch.nn.Parameter(w.clone()))
    assert torch.equal(t.detach(), w)
    from repro.ops import native

    v = native.load("sharing").forward(w, torch.ones(1, dtype=dtype), 3)[5]
    assert torch.equal(v, torch.sort(w).values)


def test_native_sharing_gradcheck_and_backend_switch(monkeypatch):
    """The native backward against finite differences; ``REPRO_SHARING_BACKEND`` forces a path or is an error."""
    from repro.ops import weight_sharing as ws

    _native_or_skip()
    torch.manual_seed(3)
    w = torch.randn(48, dtype=torch.float64, requires_grad=True)
    alpha = torch.empty(5, dtype=torch.float64).uniform_(0.6, 1.5).requires_grad_()
    g = torch.randn(48, dtype=torch.float64)

    def f(w, alpha):
        t, kl_gauss, kl_laplace = ws._NativeSharing.apply(w, alpha, ws.vasicek_spacing(48))
        return (t * g).sum() + 0.3 * kl_gauss + 0.9 * kl_laplace
    assert torch.autograd.gradcheck(f, (w, alpha), eps=1e-7, atol=1e-6)
    monkeypatch.setenv("REPRO_SHARING_BACKEND", "torch")
    assert ws.backend() == "torch"
    monkeypatch.setenv("REPRO_SHARING_BACKEND", "native")
    assert ws.backend() == "native"
    monkeypatch.setenv("REPRO_SHARING_BACKEND", "fast")
    with pytest.raises(ValueError, match="REPRO_SHARING_BACKEND must be one of"):
        ws.backend()
