"""Weight EMA (repro.train.ema): timm's average, as an engine hook that resumes exactly."""
import pytest
import torch

from repro.cache import Checkpoint
from repro.train import engine
from repro.train.ema import EmaHook, ema


def test_ema_averages_weights_with_the_decay():
    model = torch.nn.Linear(2, 1)
    assert ema(model).decay == 0.99996
    avg = ema(model, decay=0.75)
    before = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(4.0)
    avg.update(model)
    assert torch.allclose(avg.module.weight, 0.75 * before + 0.25 * (before + 4.0))


def _train(tmp_path, stop_at=None, decay=0.5):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    hook = EmaHook(model, decay)
    batches = [torch.full((4, 3), float(i)) for i in range(6)]
    res = engine.run(model, torch.optim.SGD(model.parameters(), lr=0.1), lambda: iter(batches),
                     lambda m, x: m(x).pow(2).mean(), engine.RunConfig(steps=6, ckpt_every=1, stop_at=stop_at,
                                                                       device="cpu"),
                     hooks=[hook], ckpt=Checkpoint(tmp_path / "ckpt.pt"))
    return model, hook, res


def test_ema_hook_follows_the_naive_average_and_resumes_exactly(tmp_path):
    model, hook, _ = _train(tmp_path / "a")
    # naive reference: replay the run, averaging by hand after every step
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 1)
    avg = [p.detach().clone() for p in ref.parameters()]
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for i in range(6):
        opt.zero_grad()
        ref(torch.full((4, 3), float(i))).pow(2).mean().backward()
        opt.step()
        avg = [0.5 * a + 0.5 * p.detach() for a, p in zip(avg, ref.parameters())]
    for got, want in zip(hook.module.parameters(), avg):
        torch.testing.assert_close(got, want)
    # stopped after 3 steps, then resumed: the same average as the uninterrupted run
    _train(tmp_path / "b", stop_at=3)
    _, resumed, res = _train(tmp_path / "b")
    assert res.steps == 6
    for got, want in zip(resumed.module.parameters(), hook.module.parameters()):
        torch.testing.assert_close(got, want)


def test_bad_decay_is_refused():
    with pytest.raises(ValueError, match=r"EMA decay must lie in \(0, 1\)"):
        EmaHook(torch.nn.Linear(1, 1), 1.0)
