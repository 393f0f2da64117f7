"""A two-process DistributedDataParallel one-shot step on CPU (gloo), as ``torchrun`` would run it.

Both ranks start from different random weights (DDP broadcasts rank 0's), take one one-shot step
of the NLP supernet with heterogeneous sharing on different halves of a batch, and must end with
identical weights. One process training on the whole batch must reach the same loss and the same
weights (to well within Adam's first step, which makes near-zero gradients sign-like), except the Conv / Shift / Add pools: AdderNet's adaptive gradient scaling (eta) normalises
each rank's local gradient before DDP averages them.
"""
from __future__ import annotations

import textwrap

import pytest
import torch

WORKER = textwrap.dedent('''
    import os, sys
    import torch
    import torch.multiprocessing as mp

    from repro.spaces.shiftaddnas_nlp import NlpSpaceDims, ShiftAddNASNLPSpace
    from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer
    from repro.train import distributed
    from repro.train.one_shot import train_one_shot

    DIMS = NlpSpaceDims(encoder_layers=3, decoder_layers=(1, 2), embed=(16, 8), heads=(4, 2), mlp=(16, 8))

    def batches(halves):
        """Global batches of 4 pairs; with ``halves`` each is yielded as its two halves in turn
        (train_one_shot gives rank r the r-th batch of every group of world-size batches)."""
        def stream():
            g = torch.Generator().manual_seed(0)
            while True:
                src, tgt = torch.randint(4, 40, (4, 7), generator=g), torch.randint(4, 40, (4, 6), generator=g)
                batch = (src, tgt[:, :-1], tgt[:, 1:])
                if halves:
                    yield tuple(t[:2] for t in batch)
                    yield tuple(t[2:] for t in batch)
                else:
                    yield batch
        return stream

    def loss_fn(model, batch):
        src, tgt_in, tgt_out = batch
        return torch.nn.functional.cross_entropy(model(src, tgt_in).flatten(0, 1), tgt_out.flatten())

    def run(init_seed, stream, out):
        torch.set_num_threads(1)
        torch.manual_seed(init_seed)
        net = ShiftAddNASTransformer(DIMS, 40, "heterogeneous", dropout=0.0)
        res = train_one_shot(net, ShiftAddNASNLPSpace(DIMS), stream, loss_fn, steps=1, lr=1e-2, warmup_steps=0)
        torch.save({"state": net.state_dict(), "losses": res.losses}, out)

    def worker(rank, world, port, folder):
        os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        assert distributed.init_from_env() and distributed.world_size() == world
        run(100 + rank, batches(halves=True), f"{folder}/rank{rank}.pt")
        distributed.cleanup()

    if __name__ == "__main__":
        port, folder = int(sys.argv[1]), sys.argv[2]
        mp.start_processes(worker, args=(2, port, folder), nprocs=2, start_method="fork")
        run(100, batches(halves=False), f"{folder}/single.pt")
''')



def test_two_process_ddp_step_keeps_ranks_identical(run_worker):
    tmp_path = run_worker(WORKER)
    rank0, rank1, single = (torch.load(tmp_path / f"{n}.pt") for n in ("rank0", "rank1", "single"))
    assert rank0["losses"] == rank1["losses"]
    assert rank0["losses"][0] == pytest.approx(single["losses"][0], rel=1e-5)
    assert rank0["state"].keys() == rank1["state"].keys() == single["state"].keys()
    for k, v in rank0["state"].items():
        torch.testing.assert_close(v, rank1["state"][k], rtol=0, atol=0)
        if ".local." not in k:  # Adam's first step moves a weight by about +-lr = 1e-2
            torch.testing.assert_close(v, single["state"][k], rtol=0, atol=1e-3)
