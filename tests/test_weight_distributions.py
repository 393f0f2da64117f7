"""Notebook 01's verdict logic (repro.experiments.weight_distributions.claims) on synthetic weights of known law."""
import pytest
import torch

from repro import evidence
from repro.experiments.weight_distributions import claims, run, tables
from repro.models.small_net import OPS, STUDIED, SmallNet
from repro.ops.weight_sharing import excess_kurtosis


def _runs(acc: float, move: float, seeds: int = 3) -> dict:
    """Fake trained networks: Conv weights drawn from a Gaussian, Add weights from a Laplace, each the
    Gaussian initial weights plus a change of relative size ``move``."""
    runs = {}
    for op in OPS:
        runs[op] = []
        for s in range(seeds):
            g = torch.Generator().manual_seed(100 * s + len(op))
            init, final = {}, {}
            for name in STUDIED:
                w0 = torch.randn(4000, generator=g)
                law = torch.distributions.Laplace(0.0, 1.0) if op == "add" else torch.distributions.Normal(0.0, 1.0)
                target = law.sample((4000,))
                final_w = target if move >= 1 else w0 + move * (target - w0) / (target - w0).norm() * w0.norm()
                if op == "shift":
                    final_w = torch.sign(final_w) * 2.0 ** torch.round(torch.log2(final_w.abs().clamp_min(2 ** -14)))
                init[name], final[name] = w0, final_w
            runs[op].append({"op": op, "init": init, "final": final, "test": {"acc": acc}})
    return runs


def test_trained_laws_hold_when_gates_pass():
    table = tables.seed_table(_runs(acc=90.0, move=1.0))
    ev = claims.claim_evidence(table, ("conv", "add"))
    assert ev.verdict == evidence.HOLDS
    assert len(ev.gates) == 2 * (1 + len(STUDIED))  # per network: accuracy, and movement per layer


def test_a_layer_that_barely_moved_is_not_testable():
    table = tables.seed_table(_runs(acc=90.0, move=0.05))
    ev = claims.claim_evidence(table, ("conv", "add"))
    assert ev.verdict == evidence.NOT_TESTABLE
    assert "relative movement" in ev.reason
    assert table["relative change"].max() < evidence.WEIGHT_MOVEMENT_FLOOR


def test_accuracy_gate_blocks_the_verdict():
    ev = claims.claim_evidence(tables.seed_table(_runs(acc=60.0, move=1.0)), OPS)
    assert ev.verdict == evidence.NOT_TESTABLE
    assert "test accuracy" in ev.reason


def test_gaussian_add_weights_do_not_hold():
    runs = _runs(acc=90.0, move=1.0)
    runs["add"] = [dict(r, final=runs["conv"][i]["final"]) for i, r in enumerate(runs["add"])]
    assert claims.claim_evidence(tables.seed_table(runs), ("conv", "add")).verdict == evidence.DOES_NOT_HOLD


def test_shift_levels_and_kernel_check():
    table = tables.seed_table(_runs(acc=90.0, move=1.0))
    assert claims.shift_levels(table) <= claims.SHIFT_LEVELS
    import pandas as pd

    def kernel_tables(draw) -> list[pd.DataFrame]:  # one per seed, as the notebook fits one kernel per seed
        return [pd.DataFrame({"weights": ["T paper (d=200)"],
                              "excess kurtosis": [float(excess_kurtosis(draw(seed)))]}) for seed in range(3)]
    def laplace_draw(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        return torch.distributions.Laplace(0.0, 1.0).sample((200_000,))  # kurtosis SD ~0.11 at this n
    laplace = kernel_tables(laplace_draw)
    gauss = kernel_tables(lambda s: torch.randn(200_000, generator=torch.Generator().manual_seed(s)))
    assert claims.kernel_evidence(laplace).verdict == evidence.HOLDS  # Laplace: excess kurtosis 3
    assert claims.kernel_evidence(gauss).verdict == evidence.DOES_NOT_HOLD  # Gaussian: 0
    assert claims.kernel_evidence(laplace[:1]).verdict == evidence.NOT_TESTABLE  # one seed: no interval


def test_supernet_kernels_table_and_evidence():
    from repro.spaces.shiftaddnas_cv import dims_for
    from repro.supernets.shiftaddnas_cv import CVSupernet

    torch.manual_seed(0)
    net = CVSupernet(dims_for("tiny"), "heterogeneous")
    per_pool, views = run.supernet_kernels(net)
    stages = len(net.layers)
    assert len(per_pool) == len(views) == sum(2 * len(layers) for layers in net.layers)
    untrained = per_pool.iloc[0]
    assert untrained["alpha min"] == untrained["alpha max"] == 1.0  # alphas start at 1: T(pool) is the pool
    assert untrained["excess kurtosis T(pool)"] == pytest.approx(untrained["excess kurtosis pool"])
    assert per_pool["Shift clipped above"].max() == 0.0 and per_pool["unscaled Shift clipped above"].min() > 0.25
    table = tables.supernet_kernel_table(per_pool)
    assert list(table["weights"]) == [f"stage {s}" for s in range(stages)] + ["Laplace target"]
    ev = claims.supernet_kernel_evidence([table])
    assert ev.verdict == evidence.NOT_TESTABLE and "n=1" in ev.reason  # one supernet: no interval
    far = table.assign(**{"excess kurtosis T(pool)": 0.1})
    near = table.assign(**{"excess kurtosis T(pool)": 3.0})
    assert claims.supernet_kernel_evidence([far, far.assign(**{"excess kurtosis T(pool)": 0.2})]).verdict == \
        evidence.DOES_NOT_HOLD
    assert claims.supernet_kernel_evidence([near, near.assign(**{"excess kurtosis T(pool)": 3.02})]).verdict == \
        evidence.HOLDS
    with pytest.raises(ValueError, match="heterogeneous"):
        run.supernet_kernels(CVSupernet(dims_for("tiny"), "naive"))


@pytest.mark.parametrize("size", [28, 27, 14, 13])
def test_small_net_classifier_reads_the_flattened_map(size):
    """The head's input is the whole feature map after two stride-2 layers (ceil(ceil(size / 2) / 2) squared)."""
    side = -(-(-(-size // 2)) // 2)
    net = SmallNet("conv", 4, image_size=size)
    assert net.head.in_features == 16 * side * side
    assert net(torch.zeros(2, 1, size, size)).shape == (2, 10)
