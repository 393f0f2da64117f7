"""Paper-scale architectures of the model zoo, built for counting (meta device, no weights).

The op type of every MAC-bearing layer is what matters here: :class:`blocks.OpConv2d` and
:class:`blocks.OpLinear` compute like a convolution / linear layer (so shapes flow) and are counted as
the op they stand for (``mult``, ``add`` or ``shift``). Training uses :mod:`repro.ops` instead.
"""
