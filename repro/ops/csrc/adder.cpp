// AdderNet kernel on rows (ShiftAddNAS Sec. 3.1, AdderNet Eqs. 5-7), for G groups:
//   forward  Y[g, m, o]  = -sum_k |X[g, m, k] - W[g, o, k]|
//   grad_x   GX[g, m, k] = sum_o G[g, m, o] * HardTanh(W[g, o, k] - X[g, m, k])
// (the full-precision weight gradient sum_m G (X - W) is a GEMM and stays in PyTorch).
// Both kernels are register-blocked: a tile of RB rows of X is held in registers while the rows of W stream
// past, with GCC/Clang vector types of VB bytes (the compiler maps them onto AVX-512, AVX2 or SSE as
// -march=native allows). Tiles are split over threads with at::parallel_for. Tails (rows, k) take the same
// code with narrower tiles or a scalar loop.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace {

#if defined(__AVX512F__)
constexpr int VB = 64;  // bytes per vector: 16 floats, 8 doubles (the 4 x 4 forward tile fits 32 zmm registers)
#else
constexpr int VB = 32;  // AVX2 / NEON: a 64-byte vector would take two registers and spill the 4 x 4 tile
#endif
template <typename T> struct Vec { typedef T type __attribute__((vector_size(VB))); };
template <typename T> constexpr int64_t lanes() { return VB / sizeof(T); }

template <typename V, typename T> inline V load(const T* p) { V v; std::memcpy(&v, p, sizeof(V)); return v; }
template <typename V, typename T> inline void store(T* p, const V& v) { std::memcpy(p, &v, sizeof(V)); }
template <typename V> inline V vabs(V v) { return v < 0 ? -v : v; }
template <typename T, typename V> inline T hsum(const V& v) {
  T s = 0;
  for (int i = 0; i < lanes<T>(); ++i) s += v[i];
  return s;
}

// Y[m, o] for RB rows m of x and OB rows o of w: RB * OB accumulators, k in vectors then a scalar tail.
template <typename T, int RB, int OB>
inline void forward_tile(const T* x, const T* w, T* y, int64_t O, int64_t K) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = lanes<T>();
  V acc[RB][OB];
  for (int r = 0; r < RB; ++r)
    for (int o = 0; o < OB; ++o) acc[r][o] = V{} ;
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V xv[RB];
    for (int r = 0; r < RB; ++r) xv[r] = load<V>(x + r * K + k);
    for (int o = 0; o < OB; ++o) {
      const V wv = load<V>(w + o * K + k);
      for (int r = 0; r < RB; ++r) acc[r][o] += vabs(xv[r] - wv);
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int o = 0; o < OB; ++o) {
      T s = hsum<T>(acc[r][o]);
      for (int64_t kk = k; kk < K; ++kk) s += std::abs(x[r * K + kk] - w[o * K + kk]);
      y[r * O + o] = -s;
    }
}

template <typename T, int RB>
inline void forward_rows(const T* x, const T* w, T* y, int64_t O, int64_t K) {
  constexpr int OB = 4;
  int64_t o = 0;
  for (; o + OB <= O; o += OB) forward_tile<T, RB, OB>(x, w + o * K, y + o, O, K);
  for (; o < O; ++o) forward_tile<T, RB, 1>(x, w + o * K, y + o, O, K);
}

// GX[m, k] for RB rows m and one vector of k: the rows of w stream past RB held rows of x.
template <typename T, int RB>
inline void grad_x_rows(const T* x, const T* w, const T* g, T* gx, int64_t O, int64_t K) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = lanes<T>();
  const V one = V{} + T(1), minus_one = V{} - T(1);
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V xv[RB], acc[RB];
    for (int r = 0; r < RB; ++r) { xv[r] = load<V>(x + r * K + k); acc[r] = V{}; }
    for (int64_t o = 0; o < O; ++o) {
      const V wv = load<V>(w + o * K + k);
      for (int r = 0; r < RB; ++r) {
        V d = wv - xv[r];
        d = d > one ? one : d;
        d = d < minus_one ? minus_one : d;
        acc[r] += g[r * O + o] * d;
      }
    }
    for (int r = 0; r < RB; ++r) store(gx + r * K + k, acc[r]);
  }
  for (; k < K; ++k)
    for (int r = 0; r < RB; ++r) {
      T s = 0;
      for (int64_t o = 0; o < O; ++o) s += g[r * O + o] * std::clamp(w[o * K + k] - x[r * K + k], T(-1), T(1));
      gx[r * K + k] = s;
    }
}

constexpr int64_t RB = 4;  // rows of x per register tile

// Calls rows<RB>(row offset) over blocks of RB rows of every group (and rows<1> on each group's tail), in parallel.
template <typename Block, typename Tail>
void over_row_tiles(int64_t G, int64_t M, const Block& block, const Tail& tail) {
  const int64_t tiles = M / RB;
  at::parallel_for(0, G * tiles, 4, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) block(t / tiles, (t % tiles) * RB);
  });
  for (int64_t g = 0; g < G; ++g)
    for (int64_t m = tiles * RB; m < M; ++m) tail(g, m);
}

void check(const torch::Tensor& x, const torch::Tensor& w) {
  TORCH_CHECK(x.dim() == 3 && w.dim() == 3 && x.size(0) == w.size(0) && x.size(2) == w.size(2),
              "adder kernel expects x (G, M, K) and w (G, O, K)");
  TORCH_CHECK(x.device().is_cpu() && w.device().is_cpu(), "adder kernel: CPU tensors only");
  TORCH_CHECK(x.scalar_type() == w.scalar_type(), "adder kernel: x and w must share a dtype");
}

}  // namespace

torch::Tensor adder_forward(torch::Tensor x, torch::Tensor w) {
  check(x, w);
  x = x.contiguous();
  w = w.contiguous();
  const int64_t G = x.size(0), M = x.size(1), K = x.size(2), O = w.size(1);
  auto y = torch::empty({G, M, O}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_forward", [&] {
    const scalar_t *xp = x.data_ptr<scalar_t>(), *wp = w.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    auto at = [&](int64_t g, int64_t m) {
      return std::make_tuple(xp + (g * M + m) * K, wp + g * O * K, yp + (g * M + m) * O);
    };
    over_row_tiles(G, M,
        [&](int64_t g, int64_t m) { auto [xr, wg, yr] = at(g, m); forward_rows<scalar_t, RB>(xr, wg, yr, O, K); },
        [&](int64_t g, int64_t m) { auto [xr, wg, yr] = at(g, m); forward_rows<scalar_t, 1>(xr, wg, yr, O, K); });
  });
  return y;
}

torch::Tensor adder_grad_x(torch::Tensor x, torch::Tensor w, torch::Tensor gy) {
  check(x, w);
  x = x.contiguous();
  w = w.contiguous();
  gy = gy.contiguous();
  const int64_t G = x.size(0), M = x.size(1), K = x.size(2), O = w.size(1);
  TORCH_CHECK(gy.dim() == 3 && gy.size(0) == G && gy.size(1) == M && gy.size(2) == O,
              "adder grad_x expects the output gradient of shape (G, M, O)");
  auto gx = torch::empty_like(x);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_grad_x", [&] {
    const scalar_t *xp = x.data_ptr<scalar_t>(), *wp = w.data_ptr<scalar_t>(), *gp = gy.data_ptr<scalar_t>();
    scalar_t* op = gx.data_ptr<scalar_t>();
    auto at = [&](int64_t g, int64_t m) {
      return std::make_tuple(xp + (g * M + m) * K, wp + g * O * K, gp + (g * M + m) * O, op + (g * M + m) * K);
    };
    over_row_tiles(G, M,
        [&](int64_t g, int64_t m) { auto [xr, wg, gr, o] = at(g, m); grad_x_rows<scalar_t, RB>(xr, wg, gr, o, O, K); },
        [&](int64_t g, int64_t m) { auto [xr, wg, gr, o] = at(g, m); grad_x_rows<scalar_t, 1>(xr, wg, gr, o, O, K); });
  });
  return gx;
}

// im2col straight into the row layout: x (N, C, H, W) -> rows (G, N * Ho * Wo, C / G * kh * kw), zero padding,
// column order (c, i, j) as F.unfold's; col2im is its adjoint (the input gradient), summed per image.
struct Window {
  int64_t N, C, H, W, kh, kw, stride, pad, G, Ho, Wo;
  Window(c10::IntArrayRef shape, int64_t kh, int64_t kw, int64_t stride, int64_t pad, int64_t groups)
      : N(shape[0]), C(shape[1]), H(shape[2]), W(shape[3]), kh(kh), kw(kw), stride(stride), pad(pad), G(groups),
        Ho((H + 2 * pad - kh) / stride + 1), Wo((W + 2 * pad - kw) / stride + 1) {}
  int64_t Cg() const { return C / G; }
  int64_t K() const { return Cg() * kh * kw; }
  int64_t M() const { return N * Ho * Wo; }
};

// Calls visit(row, src) for each (g, c, i) of window (n, oh, ow): row points at the kw entries of rows to
// read or write, src at the input row x[n, g * Cg + c, ih, :] (nullptr where ih is padding).
template <typename RowPtr, typename XPtr, typename Visit>
inline void over_window(const Window& s, int64_t n, int64_t oh, int64_t ow, RowPtr rows, XPtr x, const Visit& visit) {
  const int64_t m = (n * s.Ho + oh) * s.Wo + ow;
  for (int64_t g = 0; g < s.G; ++g) {
    RowPtr row = rows + (g * s.M() + m) * s.K();
    for (int64_t c = 0; c < s.Cg(); ++c) {
      XPtr plane = x + (n * s.C + g * s.Cg() + c) * s.H * s.W;
      for (int64_t i = 0; i < s.kh; ++i, row += s.kw) {
        const int64_t ih = oh * s.stride - s.pad + i;
        visit(row, ih >= 0 && ih < s.H ? plane + ih * s.W : nullptr);
      }
    }
  }
}

torch::Tensor adder_im2col(torch::Tensor x, int64_t kh, int64_t kw, int64_t stride, int64_t pad, int64_t groups) {
  TORCH_CHECK(x.dim() == 4 && x.device().is_cpu(), "adder im2col expects a CPU tensor (N, C, H, W)");
  x = x.contiguous();
  const Window s(x.sizes(), kh, kw, stride, pad, groups);
  auto rows = torch::empty({s.G, s.M(), s.K()}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_im2col", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* rp = rows.data_ptr<scalar_t>();
    at::parallel_for(0, s.N * s.Ho, 8, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t)
        for (int64_t ow = 0; ow < s.Wo; ++ow) {
          const int64_t iw0 = ow * s.stride - s.pad;
          auto copy = [&](scalar_t* row, const scalar_t* src) {
            for (int64_t j = 0; j < s.kw; ++j)
              row[j] = src && iw0 + j >= 0 && iw0 + j < s.W ? src[iw0 + j] : scalar_t(0);
          };
          over_window(s, t / s.Ho, t % s.Ho, ow, rp, xp, copy);
        }
    });
  });
  return rows;
}

torch::Tensor adder_col2im(torch::Tensor rows, std::vector<int64_t> shape, int64_t kh, int64_t kw, int64_t stride,
                           int64_t pad, int64_t groups) {
  TORCH_CHECK(shape.size() == 4 && rows.dim() == 3 && rows.device().is_cpu(), "adder col2im: bad arguments");
  rows = rows.contiguous();
  const Window s(shape, kh, kw, stride, pad, groups);
  TORCH_CHECK(rows.size(0) == s.G && rows.size(1) == s.M() && rows.size(2) == s.K(),
              "adder col2im: rows do not match the shape");
  auto x = torch::zeros(shape, rows.options());
  AT_DISPATCH_FLOATING_TYPES(rows.scalar_type(), "adder_col2im", [&] {
    const scalar_t* rp = rows.data_ptr<scalar_t>();
    scalar_t* xp = x.data_ptr<scalar_t>();
    at::parallel_for(0, s.N, 1, [&](int64_t begin, int64_t end) {  // images write disjoint slices of x
      for (int64_t n = begin; n < end; ++n)
        for (int64_t oh = 0; oh < s.Ho; ++oh)
          for (int64_t ow = 0; ow < s.Wo; ++ow) {
            const int64_t iw0 = ow * s.stride - s.pad;
            auto add = [&](const scalar_t* row, scalar_t* dst) {
              if (dst)
                for (int64_t j = 0; j < s.kw; ++j)
                  if (iw0 + j >= 0 && iw0 + j < s.W) dst[iw0 + j] += row[j];
            };
            over_window(s, n, oh, ow, rp, xp, add);
          }
    });
  });
  return x;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("im2col", &adder_im2col, "patches of x as rows (G, N * L, K)");
  m.def("col2im", &adder_col2im, "adjoint of im2col: sums rows back into an image of the given shape");
  m.def("forward", &adder_forward, "AdderNet forward -sum|x - w| on rows");
  m.def("grad_x", &adder_grad_x, "AdderNet HardTanh input gradient on rows");
}
