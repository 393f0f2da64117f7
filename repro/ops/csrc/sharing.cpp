// Heterogeneous weight sharing for one pool in one call (ShiftAddNAS Sec. 3.2.2): the transformation kernel
// T of Eq. 6 (sort the pool, scale each of d equal segments of the sorted weights by alpha_i, sort the scaled
// values, put them back in rank order) and Eq. 5's two KL terms, each a cross-entropy minus Vasicek's
// spacing estimate of the entropy:
//   KL_Gauss(pool) = mean(v^2) / 2 + log(2 pi) / 2 - H(v),   v = sort(pool)
//   KL_Laplace(T)  = mean(|u|) + log 2 - H(u),               u = sort(T(pool))
//   H(x) = mean_i log(n / (2m) * max(x[min(i+m, n-1)] - x[max(i-m, 0)], 1e-12))
// and the analytic backward of both outputs. The same arithmetic as repro.ops.weight_sharing's PyTorch path
// (TransformationKernel._compute, gaussian_kl, laplace_kl), which is the reference in the tests; here it runs
// as a few loops instead of some 80 small tensor operations per pool and step.
// Both sorts are radix sorts (linear in the pool size), so a pool costs a few passes over its weights.
#include <torch/extension.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

namespace {

constexpr double kFloor = 1e-12;

// Ascending order of keys: an LSD radix sort (11 bits a pass) of the keys' bit patterns mapped to unsigned
// integers in the same order (sign bit set for positives, all bits flipped for negatives), each key moved with
// its index; the digit counts of every pass are taken in one read, and a pass whose digit is the same for
// every key is skipped. Stable; linear in n.
template <typename T>
std::vector<int64_t> argsort(const T* key, int64_t n) {
  using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  struct Item {
    U key;
    int32_t index;
  };
  constexpr int kBits = 8 * sizeof(U), kRadix = 11, kPasses = (kBits + kRadix - 1) / kRadix;
  constexpr U kMask = (U(1) << kRadix) - 1, kSign = U(1) << (kBits - 1);
  TORCH_CHECK(n < (int64_t{1} << 31), "sharing: a pool of at most 2^31 - 1 weights");
  thread_local std::vector<Item> a, b;  // reused across calls: no fresh pages per pool and step
  a.resize(n), b.resize(n);
  std::vector<int32_t> count(kPasses << kRadix, 0);
  for (int64_t i = 0; i < n; ++i) {
    U bits;
    std::memcpy(&bits, key + i, sizeof(U));
    bits = (bits & kSign) ? ~bits : (bits | kSign);
    a[i] = {bits, static_cast<int32_t>(i)};
    for (int p = 0; p < kPasses; ++p) ++count[(p << kRadix) + ((bits >> (p * kRadix)) & kMask)];
  }
  for (int p = 0; p < kPasses; ++p) {
    int32_t* c = count.data() + (p << kRadix);
    const int shift = p * kRadix;
    if (c[(a[0].key >> shift) & kMask] == n) continue;  // one digit: the pass changes nothing
    int32_t sum = 0;
    for (U digit = 0; digit <= kMask; ++digit) {
      const int32_t k = c[digit];
      c[digit] = sum;
      sum += k;
    }
    for (int64_t i = 0; i < n; ++i) b[c[(a[i].key >> shift) & kMask]++] = a[i];
    a.swap(b);
  }
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = a[i].index;
  return order;
}

// Vasicek's spacing of rank i, its ranks (lo, hi).
inline void window(int64_t i, int64_t m, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(i - m, 0);
  *hi = std::min<int64_t>(i + m, n - 1);
}

// The log of a product of kBlock factors at a time (each factor lies in [c * 1e-12, c * range]: far from
// the double range's ends), kBlock times fewer logarithms than a log per rank.
constexpr int kBlock = 8;

template <typename T>
double entropy(const T* x, int64_t n, int64_t m) {
  const double c = static_cast<double>(n) / (2.0 * m);
  double h = 0.0, prod = 1.0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t lo, hi;
    window(i, m, n, &lo, &hi);
    prod *= c * std::max<double>(static_cast<double>(x[hi]) - x[lo], kFloor);
    if ((i + 1) % kBlock == 0) {
      h += std::log(prod);
      prod = 1.0;
    }
  }
  return (h + std::log(prod)) / n;
}

// g[j] += scale * d H(x) / d x[j]
template <typename T>
void entropy_grad(const T* x, int64_t n, int64_t m, double scale, double* g) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t lo, hi;
    window(i, m, n, &lo, &hi);
    const double sp = static_cast<double>(x[hi]) - x[lo];
    if (sp <= kFloor) continue;  // the clamp: no gradient
    const double q = scale / (n * sp);
    g[hi] += q;
    g[lo] -= q;
  }
}

// The first rank of each segment k = 0..d (segment of rank r: floor(r * d / n), as
// TransformationKernel.segment_of_rank): ceil(k * n / d); the loops run segment by segment (no division per rank).
inline std::vector<int64_t> segment_starts(int64_t d, int64_t n) {
  std::vector<int64_t> b(d + 1);
  for (int64_t k = 0; k <= d; ++k) b[k] = (k * n + d - 1) / d;
  return b;
}

}  // namespace

// Returns (T(w), kl_gauss, kl_laplace, order, perm2, v, u): T in w's shape, the two KL terms as 0-d tensors,
// the two permutations (for the backward) and the sorted pool / sorted T(pool).
std::vector<torch::Tensor> sharing_forward(torch::Tensor w, torch::Tensor alpha, int64_t m) {
  TORCH_CHECK(w.device().is_cpu() && alpha.device().is_cpu(), "sharing_forward: CPU tensors only");
  auto flat = w.contiguous().view(-1);
  auto a = alpha.contiguous().to(w.scalar_type());
  const int64_t n = flat.numel(), d = a.numel();
  TORCH_CHECK(n >= 4 && 2 * m <= n && m >= 1, "sharing_forward: need n >= 4 and 1 <= m <= n / 2");
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto out = torch::empty_like(flat), v = torch::empty_like(flat), u = torch::empty_like(flat);
  auto order_t = torch::empty({n}, i64), perm2_t = torch::empty({n}, i64);
  double klg = 0.0, kll = 0.0;
  AT_DISPATCH_FLOATING_TYPES(flat.scalar_type(), "sharing_forward", [&] {
    const scalar_t* x = flat.data_ptr<scalar_t>();
    const scalar_t* al = a.data_ptr<scalar_t>();
    auto order = argsort(x, n);
    scalar_t* vp = v.data_ptr<scalar_t>();
    thread_local std::vector<scalar_t> s;  // scratch reused across calls, as in argsort
    s.resize(n);
    const auto seg = segment_starts(d, n);
    for (int64_t k = 0; k < d; ++k) {
      for (int64_t r = seg[k]; r < seg[k + 1]; ++r) {
        vp[r] = x[order[r]];
        s[r] = vp[r] * al[k];
      }
    }
    auto perm2 = argsort(s.data(), n);
    scalar_t* up = u.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    double sq = 0.0, ab = 0.0;
    for (int64_t r = 0; r < n; ++r) {
      up[r] = s[perm2[r]];
      op[order[r]] = up[r];
      sq += static_cast<double>(vp[r]) * vp[r];
      ab += std::abs(static_cast<double>(up[r]));
    }
    klg = 0.5 * sq / n + 0.5 * std::log(2.0 * M_PI) - entropy(vp, n, m);
    kll = ab / n + std::log(2.0) - entropy(up, n, m);
    std::copy(order.begin(), order.end(), order_t.data_ptr<int64_t>());
    std::copy(perm2.begin(), perm2.end(), perm2_t.data_ptr<int64_t>());
  });
  auto scalar = torch::TensorOptions().dtype(w.scalar_type());
  return {out.view(w.sizes()), torch::full({}, klg, scalar), torch::full({}, kll, scalar), order_t, perm2_t, v, u};
}

// Gradients (w, alpha) from the upstream gradient g_t of T(w) (may be empty: T unused), g_gauss and g_laplace.
std::vector<torch::Tensor> sharing_backward(torch::Tensor g_t, double g_gauss, double g_laplace, torch::Tensor alpha,
                                            torch::Tensor order_t, torch::Tensor perm2_t, torch::Tensor v,
                                            torch::Tensor u, int64_t m) {
  const int64_t n = v.numel(), d = alpha.numel();
  auto a = alpha.contiguous().to(v.scalar_type());
  auto gw = torch::empty_like(v), ga = torch::zeros({d}, v.options());
  const bool has_t = g_t.defined() && g_t.numel() == n;
  auto gt = has_t ? g_t.contiguous().view(-1).to(v.scalar_type()) : g_t;
  AT_DISPATCH_FLOATING_TYPES(v.scalar_type(), "sharing_backward", [&] {
    const scalar_t* vp = v.data_ptr<scalar_t>();
    const scalar_t* up = u.data_ptr<scalar_t>();
    const scalar_t* al = a.data_ptr<scalar_t>();
    const int64_t* order = order_t.data_ptr<int64_t>();
    const int64_t* perm2 = perm2_t.data_ptr<int64_t>();
    thread_local std::vector<double> gu, gv, gs;  // scratch reused across calls, as in argsort
    gu.resize(n), gv.resize(n), gs.resize(n);
    const scalar_t* gtp = has_t ? gt.data_ptr<scalar_t>() : nullptr;
    const double g_laplace_n = g_laplace / n;
    // d/du: the Add view (T[order[r]] = u[r]) and KL_Laplace = mean|u| + log 2 - H(u)
    for (int64_t r = 0; r < n; ++r) {
      const double sign = up[r] > 0 ? 1.0 : (up[r] < 0 ? -1.0 : 0.0);
      gu[r] = (has_t ? static_cast<double>(gtp[order[r]]) : 0.0) + g_laplace_n * sign;
    }
    entropy_grad(up, n, m, -g_laplace, gu.data());
    // d/dv: KL_Gauss = mean(v^2) / 2 + ... - H(v)
    const double g_gauss_n = g_gauss / n;
    for (int64_t r = 0; r < n; ++r) gv[r] = g_gauss_n * static_cast<double>(vp[r]);
    entropy_grad(vp, n, m, -g_gauss, gv.data());
    // through u = sort(s), s[r] = v[r] * alpha[seg(r)]
    std::vector<double> gad(d, 0.0);
    for (int64_t r = 0; r < n; ++r) gs[perm2[r]] = gu[r];
    scalar_t* gwp = gw.data_ptr<scalar_t>();
    const auto seg = segment_starts(d, n);
    for (int64_t k = 0; k < d; ++k) {
      for (int64_t r = seg[k]; r < seg[k + 1]; ++r) {
        gad[k] += gs[r] * vp[r];
        gwp[order[r]] = static_cast<scalar_t>(gv[r] + gs[r] * al[k]);
      }
    }
    scalar_t* gaout = ga.data_ptr<scalar_t>();
    for (int64_t k = 0; k < d; ++k) gaout[k] = static_cast<scalar_t>(gad[k]);
  });
  return {gw, ga.to(alpha.scalar_type())};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, mod) {
  mod.def("forward", &sharing_forward, "T(pool) of Eq. 6 and Eq. 5's Gaussian / Laplace KL terms");
  mod.def("backward", &sharing_backward, "gradients of T(pool) and the KL terms w.r.t. the pool and the alphas");
}
