"""Data parallelism under ``torchrun``: process-group setup from the environment and rank-0 helpers.

``torchrun --nproc_per_node N script.py`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``MASTER_ADDR``/``MASTER_PORT``; :func:`init_from_env` joins that group (gloo on CPU, nccl on GPU).
Without those variables everything runs in one process and the helpers are no-ops.
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """The process that writes files, checkpoints and progress bars (rank 0)."""
    return rank() == 0


def backend() -> str:
    """``nccl`` when a GPU is present, else ``gloo``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes; returns False (single process) without one."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return False
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend())
    return True


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
