// AdderNet forward on rows (ShiftAddNAS Sec. 3.1, AdderNet Eq. 5): Y[g, m, o] = -sum_k |X[g, m, k] - W[g, o, k]|.
// The inner loop runs over k (contiguous) and is vectorised; rows are split with at::parallel_for.
// The backward terms stay in PyTorch (a GEMM and a chunked clamp-matmul): loop kernels for them measured
// 10-60x slower here.
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

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &adder_forward, "AdderNet forward -sum|x - w| on rows");
}
