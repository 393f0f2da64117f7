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
// Sorting is warm-started: the caller passes the previous step's permutations, the keys are insertion-sorted
// from them (an optimiser step moves few weights past their neighbours), and a sort from scratch takes over
// when the warm start would cost more than a few passes.
#include <torch/extension.h>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace {

constexpr double kFloor = 1e-12;

// Ascending order of keys, warm-started from hint (a permutation of 0..n-1, or empty).
template <typename T>
std::vector<int64_t> argsort(const T* key, int64_t n, const int64_t* hint) {
  std::vector<int64_t> idx(n);
  if (hint != nullptr) {
    std::copy(hint, hint + n, idx.begin());
    int64_t budget = 16 * n + 1024, moves = 0;
    for (int64_t i = 1; i < n && moves <= budget; ++i) {
      const int64_t cur = idx[i];
      const T k = key[cur];
      int64_t j = i;
      while (j > 0 && key[idx[j - 1]] > k) {
        idx[j] = idx[j - 1];
        --j;
      }
      idx[j] = cur;
      moves += i - j;
    }
    if (moves <= budget) return idx;
  }
  std::iota(idx.begin(), idx.end(), int64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [key](int64_t a, int64_t b) { return key[a] < key[b]; });
  return idx;
}

// Vasicek's spacing of rank i, its ranks (lo, hi).
inline void window(int64_t i, int64_t m, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = std::max<int64_t>(i - m, 0);
  *hi = std::min<int64_t>(i + m, n - 1);
}

template <typename T>
double entropy(const T* x, int64_t n, int64_t m) {
  const double c = static_cast<double>(n) / (2.0 * m);
  double h = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t lo, hi;
    window(i, m, n, &lo, &hi);
    h += std::log(c * std::max<double>(static_cast<double>(x[hi]) - x[lo], kFloor));
  }
  return h / n;
}

// g[j] += scale * d H(x) / d x[j]
template <typename T>
void entropy_grad(const T* x, int64_t n, int64_t m, double scale, double* g) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t lo, hi;
    window(i, m, n, &lo, &hi);
    const double sp = static_cast<double>(x[hi]) - x[lo];
    if (sp <= kFloor) continue;  // the clamp: no gradient
    g[hi] += scale / (n * sp);
    g[lo] -= scale / (n * sp);
  }
}

// The segment of rank r: floor(r * d / n), as TransformationKernel.segment_of_rank.
inline int64_t segment(int64_t r, int64_t d, int64_t n) { return r * d / n; }

}  // namespace

// Returns (T(w), kl_gauss, kl_laplace, order, perm2, v, u): T in w's shape, the two KL terms as 0-d tensors,
// the permutations (hints for the next call and the backward) and the sorted pool / sorted T(pool).
std::vector<torch::Tensor> sharing_forward(torch::Tensor w, torch::Tensor alpha, torch::Tensor hint_order,
                                           torch::Tensor hint_perm2, int64_t m) {
  TORCH_CHECK(w.device().is_cpu() && alpha.device().is_cpu(), "sharing_forward: CPU tensors only");
  auto flat = w.contiguous().view(-1);
  auto a = alpha.contiguous().to(w.scalar_type());
  const int64_t n = flat.numel(), d = a.numel();
  TORCH_CHECK(n >= 4 && 2 * m <= n && m >= 1, "sharing_forward: need n >= 4 and 1 <= m <= n / 2");
  const bool warm1 = hint_order.numel() == n, warm2 = hint_perm2.numel() == n;
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto out = torch::empty_like(flat), v = torch::empty_like(flat), u = torch::empty_like(flat);
  auto order_t = torch::empty({n}, i64), perm2_t = torch::empty({n}, i64);
  double klg = 0.0, kll = 0.0;
  AT_DISPATCH_FLOATING_TYPES(flat.scalar_type(), "sharing_forward", [&] {
    const scalar_t* x = flat.data_ptr<scalar_t>();
    const scalar_t* al = a.data_ptr<scalar_t>();
    auto order = argsort(x, n, warm1 ? hint_order.contiguous().data_ptr<int64_t>() : nullptr);
    scalar_t* vp = v.data_ptr<scalar_t>();
    std::vector<scalar_t> s(n);
    for (int64_t r = 0; r < n; ++r) {
      vp[r] = x[order[r]];
      s[r] = vp[r] * al[segment(r, d, n)];
    }
    auto perm2 = argsort(s.data(), n, warm2 ? hint_perm2.contiguous().data_ptr<int64_t>() : nullptr);
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
    std::vector<double> gu(n, 0.0), gv(n, 0.0);
    // d/du: the Add view (T[order[r]] = u[r]) and KL_Laplace = mean|u| + log 2 - H(u)
    for (int64_t r = 0; r < n; ++r) {
      const double sign = up[r] > 0 ? 1.0 : (up[r] < 0 ? -1.0 : 0.0);
      gu[r] = (has_t ? static_cast<double>(gt.data_ptr<scalar_t>()[order[r]]) : 0.0) + g_laplace * sign / n;
    }
    entropy_grad(up, n, m, -g_laplace, gu.data());
    // d/dv: KL_Gauss = mean(v^2) / 2 + ... - H(v)
    for (int64_t r = 0; r < n; ++r) gv[r] = g_gauss * static_cast<double>(vp[r]) / n;
    entropy_grad(vp, n, m, -g_gauss, gv.data());
    // through u = sort(s), s[r] = v[r] * alpha[seg(r)]
    std::vector<double> gad(d, 0.0);
    std::vector<double> gs(n);
    for (int64_t r = 0; r < n; ++r) gs[perm2[r]] = gu[r];
    scalar_t* gwp = gw.data_ptr<scalar_t>();
    for (int64_t r = 0; r < n; ++r) {
      const int64_t k = segment(r, d, n);
      gad[k] += gs[r] * vp[r];
      gwp[order[r]] = static_cast<scalar_t>(gv[r] + gs[r] * al[k]);
    }
    scalar_t* gaout = ga.data_ptr<scalar_t>();
    for (int64_t k = 0; k < d; ++k) gaout[k] = static_cast<scalar_t>(gad[k]);
  });
  return {gw, ga.to(alpha.scalar_type())};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, mod) {
  mod.def("forward", &sharing_forward, "T(pool) of Eq. 6 and Eq. 5's Gaussian / Laplace KL terms, warm-started sorts");
  mod.def("backward", &sharing_backward, "gradients of T(pool) and the KL terms w.r.t. the pool and the alphas");
}
