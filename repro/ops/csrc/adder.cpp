// AdderNet kernel on rows (ShiftAddNAS Sec. 3.1, AdderNet Eqs. 5-7):
//   forward   Y[g, m, o]  = -sum_k |X[g, m, k] - W[g, o, k]|
//   grad_x    GX[g, m, k] = sum_o G[g, m, o] * HardTanh(W[g, o, k] - X[g, m, k])
//   grad_w    GW[g, o, k] = sum_m G[g, m, o] * (X[g, m, k] - W[g, o, k])   (full precision)
// Inner loops run over k (contiguous) and are vectorised; outer rows are split with at::parallel_for.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>

template <typename T>
static void forward_kernel(const T* x, const T* w, T* y, int64_t G, int64_t M, int64_t O, int64_t K) {
  at::parallel_for(0, G * M, 16, [&](int64_t begin, int64_t end) {
    for (int64_t gm = begin; gm < end; ++gm) {
      const int64_t g = gm / M;
      const T* xr = x + gm * K;
      const T* wg = w + g * O * K;
      T* yr = y + gm * O;
      for (int64_t o = 0; o < O; ++o) {
        const T* wr = wg + o * K;
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t k = 0; k < K; ++k) acc += std::abs(xr[k] - wr[k]);
        yr[o] = -acc;
      }
    }
  });
}

template <typename T>
static void grad_x_kernel(const T* x, const T* w, const T* gy, T* gx, int64_t G, int64_t M, int64_t O, int64_t K) {
  at::parallel_for(0, G * M, 16, [&](int64_t begin, int64_t end) {
    for (int64_t gm = begin; gm < end; ++gm) {
      const int64_t g = gm / M;
      const T* xr = x + gm * K;
      const T* wg = w + g * O * K;
      const T* gr = gy + gm * O;
      T* out = gx + gm * K;
      for (int64_t k = 0; k < K; ++k) out[k] = 0;
      for (int64_t o = 0; o < O; ++o) {
        const T* wr = wg + o * K;
        const T gv = gr[o];
#pragma omp simd
        for (int64_t k = 0; k < K; ++k) {
          T d = wr[k] - xr[k];
          d = d > T(1) ? T(1) : (d < T(-1) ? T(-1) : d);
          out[k] += gv * d;
        }
      }
    }
  });
}

template <typename T>
static void grad_w_kernel(const T* x, const T* w, const T* gy, T* gw, int64_t G, int64_t M, int64_t O, int64_t K) {
  at::parallel_for(0, G * O, 1, [&](int64_t begin, int64_t end) {
    for (int64_t go = begin; go < end; ++go) {
      const int64_t g = go / O, o = go % O;
      const T* wr = w + go * K;
      T* out = gw + go * K;
      for (int64_t k = 0; k < K; ++k) out[k] = 0;
      T colsum = 0;
      for (int64_t m = 0; m < M; ++m) {
        const T gv = gy[(g * M + m) * O + o];
        const T* xr = x + (g * M + m) * K;
        colsum += gv;
#pragma omp simd
        for (int64_t k = 0; k < K; ++k) out[k] += gv * xr[k];
      }
#pragma omp simd
      for (int64_t k = 0; k < K; ++k) out[k] -= colsum * wr[k];
    }
  });
}

static void check(const torch::Tensor& x, const torch::Tensor& w) {
  TORCH_CHECK(x.dim() == 3 && w.dim() == 3 && x.size(0) == w.size(0) && x.size(2) == w.size(2),
              "adder kernel expects x (G, M, K) and w (G, O, K)");
  TORCH_CHECK(x.device().is_cpu() && w.device().is_cpu(), "adder kernel: CPU tensors only");
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "adder kernel: x and w must share a dtype");
}

torch::Tensor adder_forward(torch::Tensor x, torch::Tensor w) {
  check(x, w);
  x = x.contiguous();
  w = w.contiguous();
  const int64_t G = x.size(0), M = x.size(1), K = x.size(2), O = w.size(1);
  auto y = torch::empty({G, M, O}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_forward", [&] {
    forward_kernel<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), G, M, O, K);
  });
  return y;
}

torch::Tensor adder_grad_x(torch::Tensor x, torch::Tensor w, torch::Tensor gy) {
  check(x, w);
  x = x.contiguous();
  w = w.contiguous();
  gy = gy.contiguous();
  const int64_t G = x.size(0), M = x.size(1), K = x.size(2), O = w.size(1);
  auto gx = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_grad_x", [&] {
    grad_x_kernel<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), gy.data_ptr<scalar_t>(),
                            gx.data_ptr<scalar_t>(), G, M, O, K);
  });
  return gx;
}

torch::Tensor adder_grad_w(torch::Tensor x, torch::Tensor w, torch::Tensor gy) {
  check(x, w);
  x = x.contiguous();
  w = w.contiguous();
  gy = gy.contiguous();
  const int64_t G = x.size(0), M = x.size(1), K = x.size(2), O = w.size(1);
  auto gw = torch::empty_like(w);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_grad_w", [&] {
    grad_w_kernel<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), gy.data_ptr<scalar_t>(),
                            gw.data_ptr<scalar_t>(), G, M, O, K);
  });
  return gw;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &adder_forward, "AdderNet forward -sum|x - w| on rows");
  m.def("grad_x", &adder_grad_x, "AdderNet HardTanh input gradient");
  m.def("grad_w", &adder_grad_w, "AdderNet full-precision weight gradient");
}
