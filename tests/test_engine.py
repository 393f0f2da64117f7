"""The training engine (repro.train.engine): exact resume, accumulation, clipping, devices, DDP."""
from __future__ import annotations

import json
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.cache import Checkpoint
from repro.train import engine


def _data():
    """A factory of an endless, seeded stream of (x, y) batches: the same stream at every call."""
    def stream():
        g = torch.Generator().manual_seed(0)
        while True:
            x = torch.randn(8, 5, generator=g)
            yield x, (x.sum(1) > 0).long()
    return stream


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def _loss(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y)


class _Schedule(engine.Hook):
    """A hook with state: a halving learning rate and a counter that must survive a resume."""

    def __init__(self, kill_at: int | None = None):
        self.calls, self.kill_at = 0, kill_at

    def lr(self, step):
        return 0.1 * 0.5 ** (step // 4)

    def after_step(self, step, loss):
        self.calls += 1
        if step == self.kill_at:
            raise KeyboardInterrupt("killed")

    def state_dict(self):
        return {"calls": self.calls}

    def load_state_dict(self, state):
        self.calls = state["calls"]


def _train(tmp_path, kill_at=None, steps=10, **cfg):
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hook = _Schedule(kill_at)
    res = engine.run(model, opt, _data(), _loss, engine.RunConfig(steps=steps, ckpt_every=3, device="cpu", **cfg),
                     hooks=[hook], ckpt=Checkpoint(tmp_path / "run.ckpt"), metrics=tmp_path / "metrics.jsonl")
    return model, res, hook


def test_resume_after_kill_matches_an_uninterrupted_run(tmp_path):
    whole, res_whole, hook_whole = _train(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        _train(tmp_path / "b", kill_at=7)  # last checkpoint at step 6: step 6 is redone
    resumed, res_resumed, hook_resumed = _train(tmp_path / "b")
    assert res_resumed.losses == res_whole.losses  # dropout masks and batches replayed exactly
    for p, q in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
    assert hook_resumed.calls == hook_whole.calls == 10
    rows = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(10))  # no step logged twice
    assert rows[5]["lr"] == pytest.approx(0.05) and set(rows[0]) >= {"loss", "samples_per_s", "elapsed_s"}


def test_stop_at_writes_a_checkpoint_and_a_later_run_continues_exactly(tmp_path):
    whole, res_whole, _ = _train(tmp_path / "a")
    _, res_stopped, _ = _train(tmp_path / "b", stop_at=4)  # --max-steps 4: the schedule still spans 10
    assert res_stopped.steps == 4 and res_stopped.losses == res_whole.losses[:4]
    assert Checkpoint(tmp_path / "b" / "run.ckpt").load()["step"] == 4
    rows = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    resumed, res_resumed, _ = _train(tmp_path / "b")
    assert res_resumed.steps == 10 and res_resumed.losses == res_whole.losses
    for p, q in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(p, q)


def test_accumulation_equals_one_large_batch():
    """Two micro-batches of 8 accumulate the gradient of one batch of 16 (mean losses)."""
    def pairs():
        it = _data()()
        while True:
            a, b = next(it), next(it)
            yield torch.cat([a[0], b[0]]), torch.cat([a[1], b[1]])

    outs = []
    for batches, accumulate in ((_data(), 2), (lambda: pairs(), 1)):
        model = _model()
        model[2].p = 0.0
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        res = engine.run(model, opt, batches, _loss, engine.RunConfig(steps=3, accumulate=accumulate, device="cpu"))
        outs.append((res.losses, [p.detach().clone() for p in model.parameters()]))
    assert outs[0][0] == pytest.approx(outs[1][0], abs=1e-6)
    for p, q in zip(outs[0][1], outs[1][1]):
        torch.testing.assert_close(p, q)


def test_gradient_clipping_bounds_the_update():
    model = nn.Linear(5, 1, bias=False)
    nn.init.zeros_(model.weight)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    batch = (torch.full((4, 5), 10.0), None)
    engine.run(model, opt, [batch], lambda m, b: m(b[0]).sum() * -1.0,
               engine.RunConfig(steps=1, grad_clip=0.5, device="cpu"))
    assert model.weight.norm().item() == pytest.approx(0.5, rel=1e-5)  # unclipped the step would be 40 * sqrt(5)


def test_devices_and_config_errors():
    with pytest.raises(ValueError, match="stop_at"):
        engine.RunConfig(steps=3, stop_at=0)
    assert engine.resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert engine.resolve_device("auto").type == "cpu"
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            engine.resolve_device("cuda")
    assert engine.autocast_dtype(torch.device("cuda"), "auto") is torch.bfloat16
    assert engine.autocast_dtype(torch.device("cpu"), "auto") is None
    with pytest.raises(ValueError, match="device must be one of"):
        engine.RunConfig(steps=1, device="tpu")
    with pytest.raises(ValueError, match="steps must be an integer"):
        engine.RunConfig(steps=0)


def test_model_and_batches_placed_on_the_requested_device():
    """The loop moves the model and every tensor of a nested batch to the device (meta: no data needed)."""
    seen = []

    def loss_fn(model, batch):
        seen.append((next(model.parameters()).device.type, batch["x"].device.type, batch["pair"][1].device.type))
        return model(batch["x"]).sum()

    batch = {"x": torch.randn(2, 5), "pair": (torch.zeros(1), torch.ones(1))}
    dev = torch.device("meta")
    model = nn.Linear(5, 1)
    moved = engine.to_device(batch, dev)
    assert moved["x"].device.type == "meta" and isinstance(moved["pair"], tuple)
    model.to(dev)
    loss_fn(model, moved)
    opt_model = nn.Linear(5, 1)
    engine.run(opt_model, torch.optim.SGD(opt_model.parameters(), lr=0.1), [batch], loss_fn,
               engine.RunConfig(steps=1, device="cpu"))
    assert seen == [("meta", "meta", "meta"), ("cpu", "cpu", "cpu")]


WORKER = textwrap.dedent('''
    import os, sys
    import torch
    import torch.multiprocessing as mp
    import torch.nn.functional as F
    from torch import nn
    from repro.train import distributed, engine

    def stream(split):
        def gen():
            g = torch.Generator().manual_seed(0)
            while True:
                x = torch.randn(8, 5, generator=g)
                y = (x.sum(1) > 0).long()
                if split:
                    yield x[:4], y[:4]
                    yield x[4:], y[4:]
                else:
                    yield x, y
        return gen

    def sharded(taken):
        """The split stream as a sharded factory: it yields only batches start + rank + k * world."""
        def gen(start=0, rank=0, world=1):
            for i, batch in enumerate(stream(True)()):
                if i >= start and (i - start) % world == rank:
                    taken.append(i)
                    yield batch
        return gen

    def train(seed, batches, out, taken=()):
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        res = engine.run(model, opt, batches, lambda m, b: F.cross_entropy(m(b[0]), b[1]),
                         engine.RunConfig(steps=4, device="cpu", grad_clip=1.0))
        torch.save({"state": model.state_dict(), "losses": res.losses, "taken": list(taken)}, out)

    def worker(rank, world, port, folder):
        os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        assert distributed.init_from_env()
        train(100 + rank, stream(True), f"{folder}/rank{rank}.pt")
        taken = []
        train(100 + rank, sharded(taken), f"{folder}/sharded{rank}.pt", taken)
        distributed.cleanup()

    if __name__ == "__main__":
        port, folder = int(sys.argv[1]), sys.argv[2]
        mp.start_processes(worker, args=(2, port, folder), nprocs=2, start_method="fork")
        train(100, stream(False), f"{folder}/single.pt")
''')



def test_two_process_gloo_run_ends_with_identical_weights(run_worker):
    """Two ranks (different initial weights: DDP broadcasts rank 0's) on halves of each batch end
    identical, and equal one process on the whole batch (SGD, mean losses)."""
    tmp_path = run_worker(WORKER)
    r0, r1, single = (torch.load(tmp_path / f"{n}.pt") for n in ("rank0", "rank1", "single"))
    for k in r0["state"]:
        assert torch.equal(r0["state"][k], r1["state"][k]), k
        torch.testing.assert_close(r0["state"][k], single["state"][k], atol=1e-5, rtol=1e-4)
    assert r0["losses"] == pytest.approx(single["losses"], abs=1e-5)
    for rank, ref in enumerate((r0, r1)):  # a sharded factory: the same run, each rank drawing only its batches
        shard = torch.load(tmp_path / f"sharded{rank}.pt")
        assert shard["taken"] == [rank + 2 * k for k in range(4)]
        assert shard["losses"] == ref["losses"]
        assert all(torch.equal(shard["state"][k], ref["state"][k]) for k in ref["state"])
