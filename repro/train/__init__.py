"""Training: plain classifier loops, one-shot supernet training, DistributedDataParallel. Import from the submodules."""
