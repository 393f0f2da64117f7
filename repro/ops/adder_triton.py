"""The AdderNet row kernels in Triton, for CUDA tensors (ShiftAddNAS Sec. 3.1; AdderNet's backward).

On the rows :func:`repro.ops.adder.adder_distance` works on, ``x`` (G, M, K) and ``w`` (G, O, K):

* :func:`distance`: ``Y[g, m, o] = -sum_k |x[g, m, k] - w[g, o, k]|``, one program per
  ``BLOCK_M x BLOCK_O`` tile of ``Y``, summing ``BLOCK_K``-wide slabs of the broadcast difference;
* :func:`input_grad`: ``dX[g, m, k] = sum_o G[g, m, o] * HardTanh(w[g, o, k] - x[g, m, k])``, one
  program per ``BLOCK_M x BLOCK_K`` tile of ``dX``, summing ``BLOCK_O``-wide slabs.

Neither materialises the ``M x O x K`` difference tensor outside a tile. The weight gradient is a
matrix product (``G^T X - W * colsum(G)``) and stays in PyTorch. Both kernels accumulate in float32
whatever the input dtype (bf16 / fp16 under autocast) and return the input's dtype.

On the CPU the kernels run under Triton's interpreter (``TRITON_INTERPRET=1``, set before Triton is
imported), which is how the tests check them against the naive loops without a GPU.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

BLOCK_M, BLOCK_O, BLOCK_K = 32, 32, 8


@triton.jit
def _distance_kernel(x_ptr, w_ptr, y_ptr, M, O, K,
                     sxg, sxm, sxk, swg, swo, swk, syg, sym, syo,
                     BLOCK_M: tl.constexpr, BLOCK_O: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m, pid_o, g = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    ro = pid_o * BLOCK_O + tl.arange(0, BLOCK_O)
    acc = tl.zeros((BLOCK_M, BLOCK_O), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        rk = k0 + tl.arange(0, BLOCK_K)
        xt = tl.load(x_ptr + g * sxg + rm[:, None] * sxm + rk[None, :] * sxk,
                     mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0).to(tl.float32)
        wt = tl.load(w_ptr + g * swg + ro[:, None] * swo + rk[None, :] * swk,
                     mask=(ro[:, None] < O) & (rk[None, :] < K), other=0.0).to(tl.float32)
        acc += tl.sum(tl.abs(xt[:, None, :] - wt[None, :, :]), axis=2)  # padded k: |0 - 0| = 0
    tl.store(y_ptr + g * syg + rm[:, None] * sym + ro[None, :] * syo, (-acc).to(y_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (ro[None, :] < O))


@triton.jit
def _input_grad_kernel(g_ptr, x_ptr, w_ptr, dx_ptr, M, O, K,
                       sgg, sgm, sgo, sxg, sxm, sxk, swg, swo, swk,
                       BLOCK_M: tl.constexpr, BLOCK_O: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m, pid_k, grp = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rk = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    xt = tl.load(x_ptr + grp * sxg + rm[:, None] * sxm + rk[None, :] * sxk,
                 mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0).to(tl.float32)
    acc = tl.zeros((BLOCK_M, BLOCK_K), dtype=tl.float32)
    for o0 in range(0, O, BLOCK_O):
        ro = o0 + tl.arange(0, BLOCK_O)
        gt = tl.load(g_ptr + grp * sgg + rm[:, None] * sgm + ro[None, :] * sgo,
                     mask=(rm[:, None] < M) & (ro[None, :] < O), other=0.0).to(tl.float32)
        wt = tl.load(w_ptr + grp * swg + ro[:, None] * swo + rk[None, :] * swk,
                     mask=(ro[:, None] < O) & (rk[None, :] < K), other=0.0).to(tl.float32)
        diff = tl.minimum(tl.maximum(wt[None, :, :] - xt[:, None, :], -1.0), 1.0)
        acc += tl.sum(gt[:, :, None] * diff, axis=1)  # padded o: G = 0
    tl.store(dx_ptr + grp * sxg + rm[:, None] * sxm + rk[None, :] * sxk, acc.to(dx_ptr.dtype.element_ty),
             mask=(rm[:, None] < M) & (rk[None, :] < K))


def distance(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``-cdist_L1`` per group: ``x`` (G, M, K), ``w`` (G, O, K) -> (G, M, O)."""
    groups, rows, depth = x.shape
    outs = w.shape[1]
    y = x.new_empty(groups, rows, outs)
    grid = (triton.cdiv(rows, BLOCK_M), triton.cdiv(outs, BLOCK_O), groups)
    _distance_kernel[grid](x, w, y, rows, outs, depth, *x.stride(), *w.stride(), *y.stride(),
                           BLOCK_M=BLOCK_M, BLOCK_O=BLOCK_O, BLOCK_K=BLOCK_K)
    return y


def input_grad(g: torch.Tensor, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """AdderNet's input gradient ``sum_o G * HardTanh(w - x)``: ``g`` (G, M, O) -> (G, M, K)."""
    groups, rows, depth = x.shape
    outs = w.shape[1]
    x = x.contiguous()
    dx = torch.empty_like(x)
    grid = (triton.cdiv(rows, BLOCK_M), triton.cdiv(depth, BLOCK_K), groups)
    _input_grad_kernel[grid](g, x, w, dx, rows, outs, depth, *g.stride(), *x.stride(), *w.stride(),
                             BLOCK_M=BLOCK_M, BLOCK_O=BLOCK_O, BLOCK_K=BLOCK_K)
    return dx
