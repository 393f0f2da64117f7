"""The evidence rule: every verdict on a paper's claim comes from here, never from a notebook.

A scaled claim is a statement about an *effect* (a paired accuracy gain, a correlation, a main
effect of a factorial ablation, a count difference). We estimate it over several seeds (or subnets),
form a 95% interval and decide with one rule, :func:`decide`:

* **holds** — every gate passed and the interval lies beyond ``at_least`` in the paper's direction
  (``at_least`` is 0 for a claim of direction, the paper's minimum effect for a claim of size);
* **does not hold** — every gate passed and the interval lies on the other side of ``at_least``;
* **inconclusive** — every gate passed and the interval contains ``at_least``;
* **not testable at this scale** — a named training-regime gate failed (the networks did not learn
  enough for their comparison to say anything about the paper), or fewer than two observations;
* **by construction** — the check cannot fail, because its input was built to satisfy it.

Intervals:

* paired differences over seeds: mean difference and Student's *t* interval (n is small: 2-10
  seeds; the bootstrap under-covers there), :func:`paired`, :func:`mean_effect`;
* correlations over subnets (Kendall tau, Pearson R, Spearman rho): percentile bootstrap over
  subnets with ``scipy.stats.bootstrap`` (:func:`correlation`), and the difference between two arms
  scored against the same ground truth by a paired bootstrap that resamples the subnets once for
  both arms (:func:`correlation_difference`);
* factorial 2x2 ablations: each factor's main effect, paired by seed (:func:`factorial_main_effects`);
* a scaled claim of *closeness* (a quantity should equal a target within a stated tolerance):
  the mean deviation over seeds and its Student's *t* interval, which must lie inside the
  tolerance band to hold and wholly outside it to fail (an equivalence test, :func:`within`);
* exact artifacts: our number against the paper's with a stated tolerance (:func:`exact`).

Each result is an :class:`Evidence`; ``Evidence.to_dict()`` is the ``evidence`` object of
``figures/results/<id>.json``: ``{"effect", "ci": [low, high], "n", "unit", "direction", "gates":
[{"name", "value", "floor", "passed"}], "method", "at_least"}``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable at this scale"
BY_CONSTRUCTION = "by construction"
#: Artifacts that state no claim (diagrams, reported-only tables).
NOT_APPLICABLE = "n/a"
OUTCOMES = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, NOT_TESTABLE, BY_CONSTRUCTION)
DIRECTIONS = ("greater", "less")
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Gate:
    """A training-regime gate: ``value`` must reach ``floor`` (or stay below it when ``higher=False``)."""
    name: str
    value: float
    floor: float
    higher: bool = True

    @property
    def passed(self) -> bool:
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return False
        return self.value >= self.floor if self.higher else self.value <= self.floor

    def describe(self) -> str:
        op = ">=" if self.higher else "<="
        return f"{self.name} = {self.value:.4g} (needs {op} {self.floor:.4g})"

    def to_dict(self) -> dict:
        return {"name": self.name, "value": _num(self.value), "floor": float(self.floor),
                "higher": self.higher, "passed": self.passed}


def gate(name: str, value: float, floor: float, higher: bool = True) -> Gate:
    return Gate(name, float(value) if value is not None else float("nan"), float(floor), higher)


def min_gate(name: str, values: Iterable[float], floor: float) -> Gate:
    """A gate on the worst of several networks (every one must reach ``floor``)."""
    vals = [float(v) for v in values]
    return gate(f"min {name} over {len(vals)}", min(vals) if vals else float("nan"), floor)


@dataclass(frozen=True)
class Evidence:
    """An estimated effect, its interval, the rule's verdict and why."""
    effect: float
    ci: tuple[float, float]
    n: int
    unit: str
    direction: str
    method: str
    verdict: str
    reason: str = ""
    at_least: float = 0.0
    gates: tuple[Gate, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(effect=_num(self.effect), ci=[_num(self.ci[0]), _num(self.ci[1])],
                 gates=[g.to_dict() for g in self.gates], at_least=float(self.at_least))
        d.pop("verdict"), d.pop("reason")
        return d

    def summary(self) -> str:
        """``+1.23 pp [0.40, 2.06], n=3``: the effect and its interval, as the report shows them."""
        if self.verdict == BY_CONSTRUCTION or math.isnan(self.effect):
            return ""
        return f"{self.effect:+.3g} {self.unit} [{self.ci[0]:.3g}, {self.ci[1]:.3g}], n={self.n}"


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def decide(effect: float, ci: tuple[float, float], n: int, *, unit: str, direction: str = "greater",
           method: str, gates: Sequence[Gate] = (), at_least: float = 0.0, min_n: int = 2) -> Evidence:
    """The one verdict rule (module docstring): gates first, then where the interval lies."""
    _check_direction(direction)
    gates = tuple(gates)
    failed = [g for g in gates if not g.passed]
    base = dict(effect=float(effect), ci=(float(ci[0]), float(ci[1])), n=int(n), unit=unit,
                direction=direction, method=method, at_least=float(at_least), gates=gates)
    if failed:
        return Evidence(**base, verdict=NOT_TESTABLE,
                        reason="gate failed: " + "; ".join(g.describe() for g in failed))
    if n < min_n or not all(math.isfinite(v) for v in ci):
        return Evidence(**base, verdict=NOT_TESTABLE, reason=f"n = {n} observations: no interval (needs >= {min_n})")
    lo, hi = (ci[0] - at_least, ci[1] - at_least) if direction == "greater" else (at_least - ci[1], at_least - ci[0])
    what = f"{at_least:g} {unit}" if at_least else "zero"
    if lo > 0:
        return Evidence(**base, verdict=HOLDS, reason=f"the {CONFIDENCE:.0%} interval excludes {what} in the paper's direction")
    if hi < 0:
        return Evidence(**base, verdict=DOES_NOT_HOLD,
                        reason=f"the {CONFIDENCE:.0%} interval excludes {what} against the paper's direction")
    return Evidence(**base, verdict=INCONCLUSIVE, reason=f"the {CONFIDENCE:.0%} interval contains {what}")


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, tuple[float, float]]:
    """Mean and Student's t interval of the mean (``nan`` bounds below two values)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2:
        return mean, (float("nan"), float("nan"))
    sem = float(x.std(ddof=1)) / math.sqrt(x.size)
    if sem == 0.0:
        return mean, (mean, mean)
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1)) * sem
    return mean, (mean - half, mean + half)


def mean_effect(values: Sequence[float], *, unit: str, direction: str = "greater", gates: Sequence[Gate] = (),
                at_least: float = 0.0) -> Evidence:
    """An effect observed once per seed (already a difference, or a quantity against ``at_least``)."""
    mean, ci = t_interval(values)
    return decide(mean, ci, len(values), unit=unit, direction=direction, gates=gates, at_least=at_least,
                  method="mean over seeds, Student t 95% interval")


def within(values: Sequence[float], target: float, tol: float, *, unit: str, gates: Sequence[Gate] = ()) -> Evidence:
    """A quantity observed once per seed that should equal ``target`` within ``tol`` (equivalence):
    holds when the 95% interval of the mean deviation lies inside ``[-tol, tol]``, does not hold when
    it lies wholly outside, inconclusive when it straddles a bound; gates and n >= 2 as :func:`decide`."""
    if tol <= 0:
        raise ValueError(f"within() needs a positive tolerance, got {tol}")
    mean, ci = t_interval([v - target for v in values])
    gates = tuple(gates)
    base = dict(effect=mean, ci=ci, n=len(values), unit=unit, direction="within", at_least=float(tol), gates=gates,
                method=f"mean deviation from {target:g} {unit} over seeds, Student t 95% interval, "
                       f"tolerance +-{tol:g}")
    failed = [g for g in gates if not g.passed]
    if failed:
        return Evidence(**base, verdict=NOT_TESTABLE, reason="gate failed: " + "; ".join(g.describe() for g in failed))
    if len(values) < 2 or not all(math.isfinite(v) for v in ci):
        return Evidence(**base, verdict=NOT_TESTABLE, reason=f"n = {len(values)} observations: no interval (needs >= 2)")
    if -tol <= ci[0] and ci[1] <= tol:
        return Evidence(**base, verdict=HOLDS, reason=f"the {CONFIDENCE:.0%} interval lies inside +-{tol:g} {unit}")
    if ci[0] > tol or ci[1] < -tol:
        return Evidence(**base, verdict=DOES_NOT_HOLD,
                        reason=f"the {CONFIDENCE:.0%} interval lies outside +-{tol:g} {unit}")
    return Evidence(**base, verdict=INCONCLUSIVE, reason=f"the {CONFIDENCE:.0%} interval straddles +-{tol:g} {unit}")


def paired(arm: Sequence[float], baseline: Sequence[float], *, unit: str, direction: str = "greater",
           gates: Sequence[Gate] = (), at_least: float = 0.0) -> Evidence:
    """``arm - baseline`` paired by seed (same data order and initialisation per seed), t interval."""
    a, b = np.asarray(arm, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired arms need one value per seed each, got {a.size} and {b.size}")
    mean, ci = t_interval(a - b)
    return decide(mean, ci, a.size, unit=unit, direction=direction, gates=gates, at_least=at_least,
                  method="paired difference over seeds, Student t 95% interval")


_CORRELATIONS: dict[str, Callable] = {
    "kendall": lambda x, y: stats.kendalltau(x, y)[0],
    "pearson": lambda x, y: stats.pearsonr(x, y)[0],
    "spearman": lambda x, y: stats.spearmanr(x, y)[0],
}


def _corr(method: str) -> Callable:
    try:
        return _CORRELATIONS[method]
    except KeyError:
        raise ValueError(f"unknown correlation {method!r}; valid: {', '.join(_CORRELATIONS)}") from None


def _bootstrap(statistic: Callable, n: int, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over resampled subnet indices (scipy's bootstrap)."""
    def stat(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.atleast_2d(idx).astype(int)
        vals = np.array([statistic(row) for row in idx])
        return vals if vals.size > 1 else vals[0]

    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.bootstrap((np.arange(n),), stat, n_resamples=resamples, vectorized=True,
                              method="percentile", confidence_level=CONFIDENCE, random_state=seed)
    lo, hi = res.confidence_interval
    return float(lo), float(hi)


def _nan_safe(f: Callable) -> Callable:
    def g(*args):
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = f(*args)
        return 0.0 if v is None or math.isnan(v) else float(v)  # a constant resample carries no ranking
    return g


def correlation(x: Sequence[float], y: Sequence[float], *, method: str = "kendall", direction: str = "greater",
                gates: Sequence[Gate] = (), at_least: float = 0.0, seed: int = 0,
                resamples: int = BOOTSTRAP_RESAMPLES) -> Evidence:
    """A correlation between two scores of the same subnets, with a bootstrap interval over subnets."""
    f = _nan_safe(_corr(method))
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.size
    if n < 4:
        return decide(f(x, y) if n >= 2 else float("nan"), (float("nan"),) * 2, n, unit=method, direction=direction,
                      gates=gates, at_least=at_least, min_n=4, method=f"{method} correlation, bootstrap over subnets")
    ci = _bootstrap(lambda i: f(x[i], y[i]), n, seed, resamples)
    return decide(f(x, y), ci, n, unit=method, direction=direction, gates=gates, at_least=at_least, min_n=4,
                  method=f"{method} correlation, percentile bootstrap over {n} subnets")


def correlation_difference(x_arm: Sequence[float], x_base: Sequence[float], y: Sequence[float], *,
                           method: str = "kendall", direction: str = "greater", gates: Sequence[Gate] = (),
                           seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Evidence:
    """corr(x_arm, y) - corr(x_base, y) over the same subnets; paired bootstrap (one resample for both arms)."""
    f = _nan_safe(_corr(method))
    a, b, y = (np.asarray(v, dtype=float) for v in (x_arm, x_base, y))
    if not a.shape == b.shape == y.shape:
        raise ValueError(f"both arms and the ground truth need one value per subnet, got {a.size}, {b.size}, {y.size}")
    n = y.size
    diff = lambda i: f(a[i], y[i]) - f(b[i], y[i])  # noqa: E731
    effect = diff(np.arange(n)) if n >= 2 else float("nan")
    ci = _bootstrap(diff, n, seed, resamples) if n >= 4 else (float("nan"),) * 2
    return decide(effect, ci, n, unit=f"{method} difference", direction=direction, gates=gates, min_n=4,
                  method=f"difference of {method} correlations, paired percentile bootstrap over {n} subnets")


def pooled_correlation_difference(arms: Sequence[tuple[Sequence[float], Sequence[float], Sequence[float]]], *,
                                  method: str = "kendall", direction: str = "greater",
                                  gates: Sequence[Gate] = ()) -> Evidence:
    """The correlation difference of several seeds (one ``(x_arm, x_base, y)`` per seed), t interval over seeds."""
    f = _nan_safe(_corr(method))
    diffs = [f(np.asarray(a, float), np.asarray(y, float)) - f(np.asarray(b, float), np.asarray(y, float))
             for a, b, y in arms]
    ev = mean_effect(diffs, unit=f"{method} difference", direction=direction, gates=gates)
    return replace(ev, method=f"difference of {method} correlations per seed, Student t 95% interval over seeds")


def factorial_main_effects(cells: Mapping[tuple[bool, bool], Sequence[float]], names: tuple[str, str], *,
                           unit: str, direction: str = "greater", gates: Sequence[Gate] = ()) -> dict[str, Evidence]:
    """Main effects of a 2x2 design, paired by seed: ``cells[(a, b)]`` holds one value per seed.

    The main effect of factor A is the mean over B of ``(A on) - (A off)``; per seed
    ``((y11 + y10) - (y01 + y00)) / 2``; the interaction is ``(y11 - y10 - y01 + y00) / 2``.
    """
    y = {k: np.asarray(v, dtype=float) for k, v in cells.items()}
    missing = [k for k in ((a, b) for a in (False, True) for b in (False, True)) if k not in y]
    if missing:
        raise ValueError(f"a 2x2 design needs all four cells; missing {missing}")
    main_a = ((y[True, True] + y[True, False]) - (y[False, True] + y[False, False])) / 2
    main_b = ((y[True, True] + y[False, True]) - (y[True, False] + y[False, False])) / 2
    inter = (y[True, True] - y[True, False] - y[False, True] + y[False, False]) / 2
    out = {names[0]: mean_effect(main_a, unit=unit, direction=direction, gates=gates),
           names[1]: mean_effect(main_b, unit=unit, direction=direction, gates=gates),
           "interaction": mean_effect(inter, unit=unit, direction=direction, gates=gates)}
    return {k: replace(v, method=f"2x2 main effect paired by seed, Student t 95% interval") for k, v in out.items()}


def all_of(parts: Mapping[str, Evidence]) -> Evidence:
    """A claim made of several parts ("both factors help"): holds if all hold, fails if any fails."""
    items = list(parts.items())
    verdicts = [e.verdict for _, e in items]
    first = items[0][1]
    if NOT_TESTABLE in verdicts:
        verdict = NOT_TESTABLE
    elif DOES_NOT_HOLD in verdicts:
        verdict = DOES_NOT_HOLD
    elif all(v == HOLDS for v in verdicts):
        verdict = HOLDS
    else:
        verdict = INCONCLUSIVE
    reason = "; ".join(f"{k}: {e.verdict} ({e.summary() or e.reason})" for k, e in items)
    return replace(first, verdict=verdict, reason=reason, method="all of: " + ", ".join(k for k, _ in items))


def all_of_with_gates(parts: Mapping[str, Evidence]) -> Evidence:
    """:func:`all_of`, recording every part's gates (once per name; :func:`all_of` keeps the first part's)
    and naming the failed ones in the reason."""
    ev = all_of(parts)
    gates = tuple({g.name: g for e in parts.values() for g in e.gates}.values())
    failed = "; ".join(g.describe() for g in gates if not g.passed)
    return replace(ev, gates=gates, reason=ev.reason + (f"; gate failed: {failed}" if failed else ""))


def exact(measured: float, paper: float, *, unit: str, rel_tol: float | None = None,
          abs_tol: float | None = None) -> Evidence:
    """An exact artifact: our number against the paper's within a stated tolerance."""
    if rel_tol is None and abs_tol is None:
        raise ValueError("exact() needs rel_tol or abs_tol")
    tol = max(abs_tol or 0.0, (rel_tol or 0.0) * abs(paper))
    diff = float(measured) - float(paper)
    ok = abs(diff) <= tol
    tol_text = f"{rel_tol:.0%} of the paper's value" if rel_tol is not None else f"{abs_tol:g} {unit}"
    return Evidence(effect=diff, ci=(diff, diff), n=1, unit=unit, direction="within", at_least=tol,
                    method=f"ours minus paper ({float(paper):.4g} {unit}), tolerance {tol_text}",
                    verdict=HOLDS if ok else DOES_NOT_HOLD,
                    reason=f"ours {float(measured):.4g} vs paper {float(paper):.4g} {unit}: "
                           f"{'within' if ok else 'outside'} the tolerance of {tol:.3g}")


def exact_all(parts: Mapping[str, tuple[float, float]], *, unit: str, rel_tol: float | None = None,
              abs_tol: float | None = None) -> Evidence:
    """Several exact numbers against the paper's: holds if every one is within tolerance; effect = worst |diff|."""
    evs = {k: exact(m, p, unit=unit, rel_tol=rel_tol, abs_tol=abs_tol) for k, (m, p) in parts.items()}
    worst = max(evs.items(), key=lambda kv: abs(kv[1].effect) / (kv[1].at_least or 1.0))
    bad = [k for k, e in evs.items() if e.verdict != HOLDS]
    return replace(worst[1], n=len(evs), verdict=DOES_NOT_HOLD if bad else HOLDS,
                   method=f"{len(evs)} numbers against the paper's; effect: the worst ({worst[0]})",
                   reason=(f"outside tolerance: {', '.join(bad)}" if bad else f"all {len(evs)} within tolerance"))


def by_construction(reason: str) -> Evidence:
    """A check that cannot fail: its input was built to satisfy it (e.g. unit energies entered from the ratios)."""
    return Evidence(effect=float("nan"), ci=(float("nan"), float("nan")), n=0, unit="", direction="none",
                    method="by construction", verdict=BY_CONSTRUCTION, reason=reason)


def not_applicable(reason: str) -> Evidence:
    """An artifact that states no testable claim (a diagram, a table of reported numbers)."""
    return Evidence(effect=float("nan"), ci=(float("nan"), float("nan")), n=0, unit="", direction="none",
                    method="no claim to test", verdict=NOT_APPLICABLE, reason=reason)


def not_testable(reason: str, gates: Sequence[Gate] = ()) -> Evidence:
    """A claim this scale cannot test at all (e.g. no data at this scale); gates, if any, are recorded."""
    return Evidence(effect=float("nan"), ci=(float("nan"), float("nan")), n=0, unit="", direction="none",
                    method="not measured", verdict=NOT_TESTABLE, reason=reason, gates=tuple(gates))


def gated(ev: Evidence, gates: Sequence[Gate]) -> Evidence:
    """``ev`` with more gates; a failed one turns the verdict to *not testable at this scale*."""
    all_gates = tuple(ev.gates) + tuple(gates)
    failed = [g for g in gates if not g.passed]
    if failed and ev.verdict not in (BY_CONSTRUCTION, NOT_APPLICABLE):
        return replace(ev, gates=all_gates, verdict=NOT_TESTABLE,
                       reason="gate failed: " + "; ".join(g.describe() for g in failed))
    return replace(ev, gates=all_gates)


#: Fashion-MNIST test accuracy of a logistic regression (about 84%, the dataset's published benchmark):
#: a network whose accuracy decides a claim must reach it.
FASHION_MNIST_FLOOR = 84.0
#: BLEU a translation model must reach before its BLEU decides a claim.
BLEU_FLOOR = 10.0
#: Kendall tau between two seeds of a ranking's ground truth (standalone training) before it can rank proxies.
RANKING_RELIABILITY_FLOOR = 0.5
#: Relative movement ||w - w0|| / ||w0|| a layer needs before its weight distribution says anything.
WEIGHT_MOVEMENT_FLOOR = 0.25


def accuracy_gate(name: str, accuracies: Iterable[float], floor: float = FASHION_MNIST_FLOOR) -> Gate:
    """Every network (each seed, each arm) whose accuracy decides the claim reaches ``floor`` (percent)."""
    return min_gate(f"{name} test accuracy (%)", accuracies, floor)
