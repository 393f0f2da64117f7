"""The ShiftNAS search strategy (repro.search.dots) and the DARTS baseline against hand computations."""
from __future__ import annotations

import json
import math

import pytest
import torch

from repro.cache import Checkpoint
from repro.ops.shift import ShiftConv2d
from repro.search import darts, dots
from repro.spaces.darts import PRIMITIVES, edges


def test_temperature_anneals_geometrically_from_t0_to_t_end():
    temps = [dots.temperature(s, 5, 10.0, 0.02) for s in range(5)]
    assert temps[0] == pytest.approx(10.0)
    assert temps[-1] == pytest.approx(0.02)
    ratios = [b / a for a, b in zip(temps, temps[1:])]
    assert ratios == pytest.approx([(0.02 / 10.0) ** 0.25] * 4)  # T(t) = T0 * theta^t
    assert dots.temperature(0, 1) == 10.0
    with pytest.raises(ValueError, match="step must lie"):
        dots.temperature(5, 5)


def test_edge_importance_matches_hand_computation():
    # node 3 has inputs 0, 1, 2 and pairs (0,1), (0,2), (1,2); softmax(beta / T) = (1, 2, 3) / 6
    beta = 2.0 * torch.log(torch.tensor([1.0, 2.0, 3.0]))
    gamma = dots.edge_importance(beta, 3, temp=2.0)
    # Eq. 13: gamma_i = sum over pairs containing i of beta_c / N(c), N(c) = 2
    expected = [(1 / 6 + 2 / 6) / 2, (1 / 6 + 3 / 6) / 2, (2 / 6 + 3 / 6) / 2]
    assert gamma.tolist() == pytest.approx(expected)
    assert float(gamma.sum()) == pytest.approx(1.0)
    assert dots.edge_importance(torch.zeros(1), 2, 1.0).tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="input pairs"):
        dots.edge_importance(torch.zeros(2), 3, 1.0)


def test_low_temperature_concentrates_on_the_best_pair():
    beta = torch.tensor([0.0, 0.1, 0.3, 0.2, 0.0, 0.0])  # node 4: inputs 0..3; best pair (0, 3)
    gamma = dots.edge_importance(beta, 4, temp=0.001)
    assert gamma.tolist() == pytest.approx([0.5, 0.0, 0.0, 0.5], abs=1e-6)


def test_operation_search_uses_one_softmax_per_group_then_keeps_the_best_of_each():
    arch = dots.DotsArchitecture(seed=0)
    w = arch.op_weights("normal")
    assert w[:, dots.CONV_IDX].sum(1).tolist() == pytest.approx([1.0] * 14)
    assert w[:, dots.TOPO_IDX].sum(1).tolist() == pytest.approx([1.0] * 14)
    assert w[:, PRIMITIVES.index("none")].abs().sum() == 0
    with torch.no_grad():
        arch.alpha["normal"][0, PRIMITIVES.index("dil_conv_5x5")] = 3.0
        arch.alpha["normal"][0, PRIMITIVES.index("avg_pool_3x3")] = 2.0
    keep = arch.keep_best()
    assert keep["normal"][0] == [PRIMITIVES.index("dil_conv_5x5"), PRIMITIVES.index("avg_pool_3x3")]
    w = arch.op_weights("normal").detach()
    assert (w[0] > 0).sum() == 2 and float(w[0].sum()) == pytest.approx(1.0)
    # the balance weight starts at 0: the two group winners start equal, whatever their raw alphas
    assert float(w[0, PRIMITIVES.index("dil_conv_5x5")]) == pytest.approx(0.5)


def test_balance_weight_decides_between_the_kept_ops_with_its_own_temperature():
    arch = dots.DotsArchitecture(seed=0, balance_t=0.5)
    sep3, maxp = PRIMITIVES.index("sep_conv_3x3"), PRIMITIVES.index("max_pool_3x3")
    with torch.no_grad():
        arch.alpha["normal"][:, sep3] = 9.0  # a large raw conv alpha must not decide the group
        arch.alpha["normal"][:, maxp] = 1.0
    arch.keep_best()
    with torch.no_grad():
        arch.balance["normal"][0] = torch.tensor([0.0, 0.3])  # [conv, topology]
    w = arch.op_weights("normal").detach()
    e = math.exp(0.3 / 0.5) / (1 + math.exp(0.3 / 0.5))  # softmax(balance / T_b)
    assert float(w[0, maxp]) == pytest.approx(e) and float(w[0, sep3]) == pytest.approx(1 - e)
    assert arch.genotype().normal[0] == ("max_pool_3x3", 0)  # edge (0, 2): the balance prefers the pooling
    assert set(map(id, arch.stage_parameters(dots.RETRAIN))) == set(map(id, arch.balance.parameters()))
    assert not set(map(id, arch.stage_parameters(dots.RETRAIN))) & set(map(id, arch.beta.parameters()))


def test_genotype_derivation_on_fixed_weights():
    arch = dots.DotsArchitecture(seed=0)
    es = edges()
    sep3, skip, maxp, dil5 = (PRIMITIVES.index(o) for o in ("sep_conv_3x3", "skip_connect", "max_pool_3x3",
                                                             "dil_conv_5x5"))
    with torch.no_grad():
        for k in dots.KINDS:
            arch.alpha[k].zero_()
            arch.alpha[k][:, sep3] = 1.0   # best conv everywhere: sep_conv_3x3
            arch.alpha[k][:, maxp] = 0.5   # best topology op everywhere: max_pool_3x3
            for j in range(2, 6):
                arch.beta[f"{k}_{j}"].zero_()
        a = arch.alpha["normal"]
        a[es.index((1, 2)), skip] = 5.0   # edge (1,2): skip is the best of O_t
        a[es.index((2, 4)), dil5] = 2.0   # edge (2,4): dil_conv_5x5 is the best conv
        arch.beta["normal_3"][2] = 1.0    # node 3: pairs (0,1), (0,2), (1,2) -> (1, 2)
        arch.beta["normal_4"][1] = 1.0    # node 4: pairs (0,1), (0,2), ... -> (0, 2)
        arch.beta["normal_5"][3] = 1.0    # node 5: pairs (0,1), (0,2), (0,3), (0,4), ... -> (0, 4)
    arch.keep_best()
    with torch.no_grad():
        arch.balance["normal"][es.index((1, 2))] = torch.tensor([0.0, 1.0])  # the balance prefers skip
    g = arch.genotype()
    assert g.normal == (("sep_conv_3x3", 0), ("skip_connect", 1),   # node 2: the only pair (0, 1)
                        ("sep_conv_3x3", 1), ("sep_conv_3x3", 2),
                        ("sep_conv_3x3", 0), ("dil_conv_5x5", 2),
                        ("sep_conv_3x3", 0), ("sep_conv_3x3", 4))
    assert g.reduce == (("sep_conv_3x3", 0), ("sep_conv_3x3", 1)) * 4  # ties: the first pair


def test_darts_genotype_ranks_edges_by_their_best_op_other_than_none():
    arch = darts.DartsArchitecture(seed=0)
    es = edges()
    none, sep3, skip, maxp = (PRIMITIVES.index(o) for o in ("none", "sep_conv_3x3", "skip_connect", "max_pool_3x3"))
    with torch.no_grad():
        a = arch.alpha["normal"]
        a.zero_()
        a[:, skip] = 1.0
        a[es.index((0, 3)), none] = 10.0  # strongest entry of node 3, but "none" never counts
        a[es.index((1, 3)), sep3] = 4.0
        a[es.index((2, 3)), maxp] = 3.0
    g = arch.genotype()
    assert g.normal[2:4] == (("sep_conv_3x3", 1), ("max_pool_3x3", 2))
    assert g.count("skip_connect") == 6


def test_modified_l2_on_a_tiny_layer():
    layer = ShiftConv2d(1, 1, 2, mode="ps", weight_bits=5)
    with torch.no_grad():
        layer.shift.copy_(torch.tensor([-1.2, -3.0, -0.4, -2.4]).view(1, 1, 2, 2))
        layer.sign.copy_(torch.tensor([0.9, -0.7, 0.2, -1.0]).view(1, 1, 2, 2))
    # rounded: P = (-1, -3, 0, -2), S = (1, -1, 0, -1) -> W^2 = 1/4, 1/64, 0, 1/16
    lam = 0.1
    value = dots.modified_l2(layer, lam)
    assert value.item() == pytest.approx(lam / 2 * (1 / 4 + 1 / 64 + 0 + 1 / 16))
    value.backward()
    # Eq. 9: dW/dP = W ln 2, so d(lam/2 W^2)/dP = lam W^2 ln 2
    w2 = torch.tensor([1 / 4, 1 / 64, 0.0, 1 / 16])
    assert layer.shift.grad.flatten().tolist() == pytest.approx((lam * w2 * math.log(2)).tolist())


def test_l2r_moves_the_decay_of_p_and_s_into_eq15():
    layer = torch.nn.Sequential(ShiftConv2d(2, 2, 1, mode="ps"), torch.nn.BatchNorm2d(2))
    with_l2r = dots.weight_optimizer(layer, 0.01, 3e-4, l2r=True)
    decays = {id(p): g["weight_decay"] for g in with_l2r.param_groups for p in g["params"]}
    assert decays[id(layer[0].shift)] == decays[id(layer[0].sign)] == 0.0
    assert decays[id(layer[1].weight)] == 3e-4
    assert dots.regulariser(layer, 3e-4, l2r=True) is not None
    without = dots.weight_optimizer(layer, 0.01, 3e-4, l2r=False)
    assert {g["weight_decay"] for g in without.param_groups} == {3e-4}
    assert dots.regulariser(layer, 3e-4, l2r=False) is None


def test_learning_rate_resets_at_the_reinitialisation():
    cfg = dots.SearchConfig(warmup_epochs=1, op_epochs=2, retrain_epochs=2, topo_epochs=3, lr=0.01)
    steps = 4
    reset = dots.lr_curve(cfg, steps)
    plain = dots.lr_curve(dots.SearchConfig(**{**cfg.__dict__, "lrr": False}), steps)
    start = 3 * steps  # weights only + operation search
    total = cfg.epochs * steps
    assert len(reset) == len(plain) == total
    assert reset[:start] == pytest.approx(plain[:start])  # identical operation search
    assert reset[start] == pytest.approx(0.01) and reset[start - 1] < 0.01
    assert plain[start] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * start / total)))
    assert all(b <= a for a, b in zip(plain, plain[1:]))
    assert all(b <= a for a, b in zip(reset[start:], reset[start + 1:]))
    assert reset[-1] == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * (steps * 5 - 1) / (steps * 5))))


def _tiny_data(half: int = 2):
    """Halves of ``half`` 7x7 one-channel images and a test set of two."""
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(0)
    def ds(n: int) -> TensorDataset:
        return TensorDataset(torch.randn(n, 1, 7, 7, generator=g), torch.randint(0, 10, (n,), generator=g))
    return dots.SearchData(ds(half), ds(half), ds(2))


def _tiny_cfg(**stages) -> dots.SearchConfig:
    """C = 2, three cells (one normal, two reductions), batches of 2: with halves of 2 a bi-level epoch
    is one step, a one-level epoch two."""
    return dots.SearchConfig(c=2, layers=3, in_channels=1, batch_size=2, **stages)


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_restored_state_follows_the_new_configs_schedule(tmp_path):
    """The shared operation stage continues with or without the reset: the lr is the step's, not the saved one."""
    cfg = _tiny_cfg(warmup_epochs=0, op_epochs=1, retrain_epochs=1, topo_epochs=1)
    state = dots.run_phases(cfg, _tiny_data(), dots.DotsArchitecture(0), until=dots.OPERATION, device="cpu")
    assert state["stages"] == 2 and state["running"] is None  # weights only (no epochs) and operation search
    for lrr, lr in ((True, 0.01), (False, 0.01 * 0.5 * (1 + math.cos(math.pi / 3)))):
        c = dots.SearchConfig(**{**cfg.__dict__, "lrr": lrr})
        log = tmp_path / f"lrr{lrr}.jsonl"
        dots.run_phases(c, _tiny_data(), dots.DotsArchitecture(0), start=state, device="cpu", stop_at=2, metrics=log)
        assert [r["lr"] for r in _rows(tmp_path / f"lrr{lrr}-retraining.jsonl")] == pytest.approx([lr])


def test_phases_are_what_the_search_runs():
    cfg = dots.SearchConfig()
    assert [(p.name, p.epochs, p.optimisation) for p in dots.phases(cfg)] == [
        ("weights only", 15, "weights only"), ("operation search", 15, "bi-level"),
        ("retraining", 20, "one-level"), ("topology search", 20, "one-level")]  # DOTS: 15 / 15 / 20 / 20 of 70
    assert cfg.epochs == 70 and cfg.reset_epoch == 30
    with pytest.raises(ValueError, match="domain"):
        dots.SearchConfig(domain="float")


def test_stages_run_in_order_and_update_only_their_parameters():
    cfg = _tiny_cfg(warmup_epochs=1, op_epochs=1, retrain_epochs=1, topo_epochs=2)
    arch = dots.DotsArchitecture(0)
    alpha0 = {k: v.detach().clone() for k, v in arch.alpha.items()}
    state = dots.run_phases(cfg, _tiny_data(), arch, until="weights only", device="cpu")
    assert [h["phase"] for h in state["history"]] == ["weights only"]
    assert all(torch.equal(arch.alpha[k], alpha0[k]) for k in dots.KINDS)  # alpha waits in stage 1
    state = dots.run_phases(cfg, _tiny_data(), arch, start=state, until="operation search", device="cpu")
    assert not all(torch.equal(arch.alpha[k], alpha0[k]) for k in dots.KINDS)
    beta0 = {k: v.detach().clone() for k, v in arch.beta.items()}
    state = dots.run_phases(cfg, _tiny_data(), arch, start=state, until="retraining", device="cpu")
    assert all(torch.equal(arch.beta[k], beta0[k]) for k in arch.beta)  # no beta updates while retraining
    assert any(float(v.detach().abs().sum()) > 0 for v in arch.balance.values())
    state = dots.run_phases(cfg, _tiny_data(), arch, start=state, device="cpu")
    assert [h["phase"] for h in state["history"]] == ["weights only", "operation search", "retraining",
                                                     "topology search", "topology search"]
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3, 4, 5]
    assert not all(torch.equal(arch.beta[k], beta0[k]) for k in arch.beta)
    temps = [h["temperature"] for h in state["history"]]
    assert temps[:2] == [None, None] and temps[2:] == pytest.approx([10.0, 10.0, 0.02])  # annealed per epoch
    # the lr of each epoch's first step (one schedule position per bi-level step): a cosine over the
    # 5 epochs, restarted at 0.01 at the re-initialisation (epoch 3) and annealed over the last 3
    cos = lambda e, n: 0.01 * 0.5 * (1 + math.cos(math.pi * e / n))  # noqa: E731
    assert [h["lr"] for h in state["history"]] == pytest.approx([cos(0, 5), cos(1, 5), cos(0, 3), cos(1, 3), cos(2, 3)])


def test_pruning_reinitialises_the_network_weights():
    cfg = _tiny_cfg(warmup_epochs=1, op_epochs=1, retrain_epochs=1, topo_epochs=0)
    arch = dots.DotsArchitecture(0)
    state = dots.run_phases(cfg, _tiny_data(), arch, until="operation search", device="cpu")
    assert not arch.topology
    net = cfg.network()
    net.load_state_dict(state["net"])
    w_opt = dots.weight_optimizer(net, cfg.lr, cfg.weight_decay, cfg.l2r)
    w_opt.load_state_dict(state["w_opt"])
    assert w_opt.state
    dots.reinitialise(net, w_opt, cfg)
    torch.manual_seed(cfg.seed + 1)
    fresh = cfg.network().state_dict()
    assert all(torch.equal(v, fresh[k]) for k, v in net.state_dict().items())  # a fresh draw, not the trained w
    assert not all(torch.equal(v, state["net"][k]) for k, v in fresh.items() if v.is_floating_point())
    assert not w_opt.state
    state = dots.run_phases(cfg, _tiny_data(), arch, start=state, device="cpu")
    assert arch.topology and state["keep"] == arch.keep  # pruned (Eq. 11) before the retraining
    assert all(len(ops) == 2 for k in dots.KINDS for ops in arch.keep[k])


def test_optimiser_settings_are_dots_and_darts():
    cfg = dots.SearchConfig(c=2, layers=3, in_channels=1)
    arch = dots.DotsArchitecture(0)
    assert dots._arch_optimizer(arch, cfg).defaults["betas"] == (0.9, 0.999)  # DOTS
    assert darts.DARTS_BETAS == (0.5, 0.999)  # DARTS's own baseline
    run = dots._run_config(dots.phases(cfg)[1], 10, 5, torch.device("cpu"), None, 0)
    assert run.grad_clip == dots.GRAD_CLIP == 5.0 and run.ckpt_every == 5  # the engine clips w; one save per epoch


# ---------------------------------------------------------------- exact resume on the engine

KILL_CFG = dict(warmup_epochs=1, op_epochs=1, retrain_epochs=1, topo_epochs=2)  # 1 + 1 + 2 + 4 steps


def _outcome(state: dict, arch) -> tuple:
    return state["net"], {k: v.detach().clone() for k, v in arch.state_dict().items()}, state["history"]


def _assert_same(a: tuple, b: tuple) -> None:
    (net_a, arch_a, hist_a), (net_b, arch_b, hist_b) = a, b
    assert net_a.keys() == net_b.keys() and all(torch.equal(net_a[k], net_b[k]) for k in net_a)  # w, BN statistics
    # alpha, balance, beta
    assert arch_a.keys() == arch_b.keys() and all(torch.equal(arch_a[k], arch_b[k]) for k in arch_a)
    assert hist_a == hist_b  # epochs, lr, temperature, test accuracy, alpha moved


@pytest.fixture(scope="module")
def uninterrupted():
    arch = dots.DotsArchitecture(0)
    state = dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), arch, device="cpu")
    return _outcome(state, arch), arch.genotype()


def test_a_search_killed_mid_stage_and_at_a_stages_start_resumes_to_the_uninterrupted_run(tmp_path, monkeypatch,
                                                                                         uninterrupted):
    kills = {(dots.RETRAIN, 0), (dots.TOPOLOGY, 3)}
    original = dots._StageHook.after_step

    def after_step(self, step, loss):
        original(self, step, loss)
        if (self.phase.name, step) in kills:
            kills.discard((self.phase.name, step))
            raise KeyboardInterrupt(f"killed at {self.phase.name} step {step}")

    monkeypatch.setattr(dots._StageHook, "after_step", after_step)
    ckpt, killed = Checkpoint(tmp_path / "search.ckpt"), 0
    while True:
        arch = dots.DotsArchitecture(0)  # a fresh process: nothing but the checkpoint survives
        try:
            state = dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), arch, ckpt=ckpt, device="cpu")
            break
        except KeyboardInterrupt:
            killed += 1
    # each from the last checkpoint: the end of the operation search (pruning and re-initialisation
    # redone), the topology search's first epoch (its second redone)
    assert killed == 2 and not kills
    assert state["stages"] == 4 and state["running"] is None and ckpt.load()["running"]["step"] == 4
    _assert_same(_outcome(state, arch), uninterrupted[0])
    assert arch.genotype() == uninterrupted[1]


def test_stop_at_counts_steps_over_all_stages_and_a_rerun_continues_exactly(tmp_path, uninterrupted):
    ckpt, log = Checkpoint(tmp_path / "search.ckpt"), tmp_path / "m.jsonl"
    arch = dots.DotsArchitecture(0)
    state = dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), arch, ckpt=ckpt, device="cpu", stop_at=3,
                            metrics=log)  # weights only, operation search and one retraining step
    assert state["stages"] == 2 and state["running"]["step"] == 1 and arch.topology
    assert [h["phase"] for h in state["history"]] == [dots.WARMUP, dots.OPERATION]
    assert [r["step"] for r in _rows(tmp_path / "m-weights-only.jsonl")] == [0]
    assert [r["step"] for r in _rows(tmp_path / "m-operation-search.jsonl")] == [0]
    assert [r["step"] for r in _rows(tmp_path / "m-retraining.jsonl")] == [0]
    assert not (tmp_path / "m-topology-search.jsonl").exists()
    earlier = dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), dots.DotsArchitecture(0), ckpt=ckpt,
                              device="cpu", stop_at=1)  # already past it: nothing runs, the saved state returns
    assert earlier["running"]["step"] == 1 and earlier["history"] == state["history"]
    arch = dots.DotsArchitecture(0)
    state = dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), arch, ckpt=ckpt, device="cpu", metrics=log)
    _assert_same(_outcome(state, arch), uninterrupted[0])
    assert [r["step"] for r in _rows(tmp_path / "m-retraining.jsonl")] == [0, 1]  # continued, no step twice
    assert [r["step"] for r in _rows(tmp_path / "m-topology-search.jsonl")] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="stop_at"):
        dots.run_phases(_tiny_cfg(**KILL_CFG), _tiny_data(), dots.DotsArchitecture(0), stop_at=0)


def test_darts_search_is_one_engine_run_resumed_exactly_mid_epoch(tmp_path):
    """DARTS: one bi-level stage; stopped after the first batch of its epoch, the rerun takes the
    second validation batch of that epoch's shuffle (halves of 4: two steps per epoch)."""
    cfg, data = _tiny_cfg(warmup_epochs=0, op_epochs=1, retrain_epochs=0, topo_epochs=0), _tiny_data(half=4)
    whole = darts.search(cfg, data, device="cpu")
    ckpt = Checkpoint(tmp_path / "darts.ckpt")
    stopped = darts.search(cfg, data, ckpt, device="cpu", stop_at=1)
    assert stopped.history == [] and ckpt.load()["running"]["step"] == 1
    resumed = darts.search(cfg, data, ckpt, device="cpu")
    assert resumed.genotype == whole.genotype and resumed.history == whole.history
    assert [(h["phase"], h["temperature"]) for h in whole.history] == [(darts.BILEVEL, None)]
    assert whole.history[0]["alpha_moved"] > 0  # alpha learns from the first step


def test_bitshift_study_is_built_once_from_the_profile_and_keys_each_step_by_its_fields_and_one_seed():
    from dataclasses import asdict

    from repro.experiments.bitshift.run import BitshiftStudy
    from repro.profiles import get_profile

    profile = get_profile("smoke", {"seed": 3, "seeds": 2, "bitshift.lr": 0.05})
    study = BitshiftStudy.from_profile(profile)
    assert (study.cfg, study.seeds, study.data_seed, study.cifar_root) == (profile.bitshift, (3, 4), 3, None)
    assert study.key(4) == {"cfg": asdict(profile.bitshift), "cifar_root": None, "data_seed": 3, "seed": 4}
    assert study.key(3) != BitshiftStudy.from_profile(get_profile("smoke", {"seed": 3})).key(3)  # lr is in the key


@pytest.mark.parametrize("domain", ["shift", "real"])
def test_shift_resnet20_has_nine_blocks_and_one_logit_per_class(domain):
    from repro.models.shift_resnet import ShiftResNet20

    net = ShiftResNet20(width=4, num_classes=10, in_channels=1, domain=domain)
    assert len(net.blocks) == 9 and net(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    assert any(isinstance(m, ShiftConv2d) for m in net.modules()) == (domain == "shift")


def _label_boxes(source: str) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of every edge label as ``dot`` lays it out (its JSON output)."""
    import subprocess

    layout = json.loads(subprocess.run(["dot", "-Tjson"], input=source.encode(), capture_output=True,
                                       check=True).stdout)
    boxes = []
    for edge in (e for e in layout["edges"] if "_ldraw_" in e):
        ops = edge["_ldraw_"]
        size = next(op["size"] for op in ops if op["op"] == "F")
        for op in (op for op in ops if op["op"] == "T"):
            (x, y), w = op["pt"], op["width"]
            boxes.append((x - w / 2, y, x + w / 2, y + size * 0.8))  # text above its baseline
    return boxes


@pytest.mark.parametrize("key", ["cifar10", "cifar100"])
@pytest.mark.parametrize("kind", ["normal", "reduce"])
def test_cell_dot_labels_one_edge_per_genotype_entry_and_dot_keeps_the_labels_apart(key, kind):
    import re

    from repro.experiments.bitshift.figures import cell_dot
    from repro.spaces.darts import PAPER_GENOTYPES

    genotype = PAPER_GENOTYPES[key]
    source = cell_dot(genotype, kind)
    labelled = re.findall(r'"([^"]+)" -> "([^"]+)" \[label="(\w+)"', source)
    names = ["c_{k-2}", "c_{k-1}", "0", "1", "2", "3"]
    assert labelled == [(names[src], str(k // 2), op) for k, (op, src) in enumerate(getattr(genotype, kind))]
    assert source.count('-> "c_{k}"') == 4 and source.count("label=") == 8
    boxes = _label_boxes(source)
    assert len(boxes) == 8
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)  # no two labels overlap
    with pytest.raises(ValueError, match="valid: normal, reduce"):
        cell_dot(genotype, "reduction")


def test_cell_figures_render_through_dot_and_name_the_fix_when_it_is_missing(monkeypatch):
    from repro.experiments.bitshift import figures
    from repro.spaces.darts import PAPER_GENOTYPES

    fig = figures.fig_genotypes("cifar10", PAPER_GENOTYPES["cifar100"])
    images = [im.get_array() for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 4 and all(a.ndim == 3 and a.shape[0] > 50 and a.shape[1] > 100 for a in images)
    monkeypatch.setattr(figures.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        figures.render_dot(figures.cell_dot(PAPER_GENOTYPES["cifar10"]))
