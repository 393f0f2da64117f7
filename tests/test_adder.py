"""The adder (AdderNet) operators against a naive Python-loop reference, in double precision, on both
CPU backends (the native C++ kernel, compiled once and cached under build/, and the PyTorch path), and
the Triton kernels of the CUDA path under Triton's interpreter (float32)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from repro.ops import adder as adder_mod
from repro.ops.adder import Adder2d, AdderLinear, adder_conv2d, adder_linear


@pytest.fixture(params=["torch", "native"])
def backend(request, monkeypatch):
    """Run the test once per backend; native is skipped (not failed) where no compiler can build it."""
    if request.param == "native" and adder_mod._native_module() is None:
        pytest.skip("native adder kernel could not be built here")
    monkeypatch.setenv("REPRO_ADDER_BACKEND", request.param)
    assert adder_mod.backend() == request.param
    return request.param


def _naive(x, w, stride, padding, groups, g):
    """Forward ``-sum |x - w|``, AdderNet's weight gradient ``sum g (x - w)`` and input gradient
    ``sum g HardTanh(w - x)``, written as explicit loops over every output element."""
    n, c, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = torch.nn.functional.pad(x, (padding,) * 4)
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    y = torch.zeros(n, o, ho, wo, dtype=x.dtype)
    gw = torch.zeros_like(w)
    gxp = torch.zeros_like(xp)
    for b in range(n):
        for oc in range(o):
            grp = oc // (o // groups)
            for i in range(ho):
                for j in range(wo):
                    patch = xp[b, grp * cg:(grp + 1) * cg, i * stride:i * stride + k, j * stride:j * stride + k]
                    y[b, oc, i, j] = -(patch - w[oc]).abs().sum()
                    gw[oc] += g[b, oc, i, j] * (patch - w[oc])
                    gxp[b, grp * cg:(grp + 1) * cg, i * stride:i * stride + k, j * stride:j * stride + k] += (
                        g[b, oc, i, j] * (w[oc] - patch).clamp(-1, 1))
    return y, gw, gxp[:, :, padding:padding + h, padding:padding + wd]


@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2), (2, 2, 4)])
def test_adder_conv2d_matches_naive_loops(stride, padding, groups, backend):
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 5, dtype=torch.double, requires_grad=True)
    w = (0.7 * torch.randn(8, 4 // groups, 3, 3, dtype=torch.double)).requires_grad_()
    y = adder_conv2d(x, w, stride, padding, groups, eta=None)
    g = torch.randn_like(y)
    y.backward(g)
    ref_y, ref_gw, ref_gx = _naive(x.detach(), w.detach(), stride, padding, groups, g)
    assert torch.allclose(y, ref_y)
    assert torch.allclose(w.grad, ref_gw)
    assert torch.allclose(x.grad, ref_gx)


def test_input_gradient_chunks_agree(monkeypatch):
    torch.manual_seed(1)
    x = torch.randn(3, 2, 5, 5, dtype=torch.double, requires_grad=True)
    w = torch.randn(4, 2, 3, 3, dtype=torch.double)
    g = torch.randn(3, 4, 3, 3, dtype=torch.double)
    adder_conv2d(x, w, eta=None).backward(g)
    whole = x.grad.clone()
    x.grad = None
    monkeypatch.setattr("repro.ops.adder.CHUNK_ELEMENTS", 50)  # forces many small chunks
    adder_conv2d(x, w, eta=None).backward(g)
    assert torch.allclose(x.grad, whole)


def test_eta_rescales_weight_gradient_to_fixed_norm(backend):
    torch.manual_seed(2)
    x = torch.randn(2, 3, 5, 5, dtype=torch.double)
    w = torch.randn(4, 3, 3, 3, dtype=torch.double, requires_grad=True)
    g = torch.randn(2, 4, 3, 3, dtype=torch.double)
    adder_conv2d(x, w, eta=None).backward(g)
    raw = w.grad.clone()
    w.grad = None
    adder_conv2d(x, w, eta=0.2).backward(g)
    assert torch.allclose(w.grad, raw * 0.2 * w.numel() ** 0.5 / raw.norm())
    assert torch.isclose(w.grad.norm(), torch.tensor(0.2 * 108 ** 0.5, dtype=torch.double))


def test_adder_linear_matches_loops_on_token_batches(backend):
    torch.manual_seed(3)
    x = torch.randn(2, 3, 5, dtype=torch.double, requires_grad=True)
    w = torch.randn(4, 5, dtype=torch.double, requires_grad=True)
    b = torch.randn(4, dtype=torch.double)
    y = adder_linear(x, w, b, eta=None)
    g = torch.randn_like(y)
    y.backward(g)
    ref = torch.empty(2, 3, 4, dtype=torch.double)
    gw = torch.zeros_like(w)
    gx = torch.zeros_like(x)
    for i in range(2):
        for t in range(3):
            for o in range(4):
                ref[i, t, o] = -(x[i, t] - w[o]).abs().sum() + b[o]
                gw[o] += g[i, t, o] * (x[i, t] - w[o])
                gx[i, t] += g[i, t, o] * (w[o] - x[i, t]).clamp(-1, 1)
    assert torch.allclose(y, ref)
    assert torch.allclose(w.grad, gw.detach())
    assert torch.allclose(x.grad, gx.detach())


@pytest.mark.parametrize("case", ["conv", "strided-groups", "linear"])
def test_backends_agree_in_float32(case, monkeypatch):
    if adder_mod._native_module() is None:
        pytest.skip("native adder kernel could not be built here")
    torch.manual_seed(4)
    if case == "linear":
        x, w = torch.randn(3, 7, 24), torch.randn(10, 24)
        fn = lambda x, w: adder_linear(x, w, eta=0.2)  # noqa: E731
    else:
        groups, stride = (1, 1) if case == "conv" else (4, 2)
        x, w = torch.randn(4, 8, 9, 9), torch.randn(12, 8 // groups, 3, 3)
        fn = lambda x, w: adder_conv2d(x, w, stride, 1, groups, eta=0.2)  # noqa: E731
    results = {}
    for name in ("torch", "native"):
        monkeypatch.setenv("REPRO_ADDER_BACKEND", name)
        xs, ws = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = fn(xs, ws)
        y.backward(torch.ones_like(y) * 0.1 + y.detach() * 1e-3)
        results[name] = (y.detach(), xs.grad, ws.grad)
    for a, b in zip(results["torch"], results["native"]):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("groups,rows,outs,k",
                         [(1, 1, 1, 1), (1, 5, 3, 15), (2, 9, 6, 17), (1, 4, 4, 33), (3, 7, 5, 64)])
def test_native_row_kernels_match_broadcast_reference(dtype, groups, rows, outs, k):
    """Every tile tail (rows not a multiple of 4, outputs not a multiple of 4, k not a multiple of a vector)."""
    module = adder_mod._native_module()
    if module is None:
        pytest.skip("native adder kernel could not be built here")
    torch.manual_seed(rows * 31 + k)
    x, w, g = (torch.randn(groups, n, d, dtype=dtype) for n, d in ((rows, k), (outs, k), (rows, outs)))
    diff = x[:, :, None, :] - w[:, None, :, :]  # (G, M, O, K)
    ref_y = -diff.abs().sum(-1)
    ref_gx = (g[..., None] * (-diff).clamp(-1, 1)).sum(2)
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-10)
    assert torch.allclose(module.forward(x, w), ref_y, **tol)
    assert torch.allclose(module.grad_x(x, w, g), ref_gx, **tol)


@pytest.mark.parametrize("n,c,h,w,k,stride,padding,groups",
                         [(2, 4, 5, 6, 3, 1, 1, 1), (3, 8, 9, 9, 3, 2, 1, 4), (2, 6, 7, 5, 1, 1, 0, 2),
                          (2, 4, 5, 5, 5, 1, 2, 2)])
def test_native_im2col_and_col2im_match_unfold(n, c, h, w, k, stride, padding, groups):
    """The native patch rows equal F.unfold's, transposed to (G, N * L, K); col2im is unfold's adjoint."""
    module = adder_mod._native_module()
    if module is None:
        pytest.skip("native adder kernel could not be built here")
    x = torch.randn(n, c, h, w, dtype=torch.float64, requires_grad=True)
    cols = torch.nn.functional.unfold(x, k, padding=padding, stride=stride)
    ref = cols.transpose(1, 2).reshape(-1, groups, cols.shape[1] // groups).transpose(0, 1)
    assert torch.equal(module.im2col(x.detach(), k, k, stride, padding, groups), ref)
    g = torch.randn_like(ref)
    ref.backward(g)
    assert torch.allclose(module.col2im(g, [n, c, h, w], k, k, stride, padding, groups), x.grad)


TRITON_SCRIPT = textwrap.dedent('''
    import sys, torch
    from repro.ops.adder import adder_conv2d, adder_linear
    cases = torch.load(sys.argv[1])
    out = []
    for args, x, w, g in cases:
        x, w = x.float().requires_grad_(), w.float().requires_grad_()
        y = adder_linear(x, w, eta=None) if args is None else adder_conv2d(x, w, *args, eta=None)
        y.backward(g.float())
        out.append((y.detach(), w.grad, x.grad))
    torch.save(out, sys.argv[2])
''')


def test_triton_kernels_match_naive_loops_under_the_interpreter(tmp_path):
    """The CUDA path's Triton kernels (forward and HardTanh input gradient), run on the CPU by Triton's
    interpreter in a fresh process (the variable must be set before Triton is imported)."""
    pytest.importorskip("triton")
    torch.manual_seed(5)
    cases, refs = [], []
    for stride, padding, groups in [(1, 1, 1), (2, 0, 2)]:  # tiles cut at every edge: 40 outputs, K = 18 / 36
        x, w = torch.randn(2, 4, 6, 5, dtype=torch.double), 0.7 * torch.randn(40, 4 // groups, 3, 3, dtype=torch.double)
        g = torch.randn(2, 40, (6 + 2 * padding - 3) // stride + 1, (5 + 2 * padding - 3) // stride + 1,
                        dtype=torch.double)
        cases.append(((stride, padding, groups), x, w, g))
        refs.append(_naive(x, w, stride, padding, groups, g))
    x, w = torch.randn(3, 5, 13, dtype=torch.double), torch.randn(35, 13, dtype=torch.double)
    g = torch.randn(3, 5, 35, dtype=torch.double)
    cases.append((None, x, w, g))
    refs.append((-(x.unsqueeze(-2) - w).abs().sum(-1), torch.einsum("ito,itk->ok", g, x) - w * g.sum((0, 1))[:, None],
                 torch.einsum("ito,itok->itk", g, (w - x.unsqueeze(-2)).clamp(-1, 1))))
    torch.save(cases, tmp_path / "cases.pt")
    env = {**os.environ, "TRITON_INTERPRET": "1", "REPRO_ADDER_BACKEND": "triton"}
    subprocess.run([sys.executable, "-c", TRITON_SCRIPT, str(tmp_path / "cases.pt"), str(tmp_path / "out.pt")],
                   env=env, check=True, timeout=600)
    for got, want in zip(torch.load(tmp_path / "out.pt"), refs):
        for a, b in zip(got, want):
            torch.testing.assert_close(a.double(), b, rtol=1e-4, atol=1e-4)


def test_forced_triton_on_cpu_tensors_needs_the_interpreter(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv("REPRO_ADDER_BACKEND", "triton")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        adder_conv2d(torch.randn(1, 2, 4, 4), torch.randn(3, 2, 3, 3))


def test_forced_backend_is_validated(monkeypatch):
    monkeypatch.setenv("REPRO_ADDER_BACKEND", "cuda")
    with pytest.raises(ValueError, match="REPRO_ADDER_BACKEND"):
        adder_mod.backend()


def test_modules_shapes_and_bias():
    layer = Adder2d(4, 6, 3, stride=2, padding=1, groups=2, bias=True)
    assert layer(torch.randn(2, 4, 8, 8)).shape == (2, 6, 4, 4)
    lin = AdderLinear(5, 3, bias=True)
    assert lin(torch.randn(7, 2, 5)).shape == (7, 2, 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(kernel_size=0), "kernel_size"),
    (dict(groups=3), "groups"),
    (dict(stride=0), "stride"),
    (dict(eta=-1.0), "eta"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Adder2d(**(dict(in_channels=4, out_channels=8, kernel_size=3) | kwargs))


def test_bad_inputs():
    with pytest.raises(ValueError, match="4-D"):
        Adder2d(4, 8, 3)(torch.randn(4, 6, 6))
    with pytest.raises(ValueError, match="channels"):
        Adder2d(4, 8, 3)(torch.randn(1, 3, 6, 6))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        adder_conv2d(torch.randn(1, 4, 2, 2), torch.randn(8, 4, 3, 3))
    with pytest.raises(ValueError, match="features"):
        AdderLinear(4, 2)(torch.randn(3, 5))
    with pytest.raises(ValueError, match="weight"):
        adder_linear(torch.randn(3, 4), torch.randn(2, 5))
