"""Reference reproduction of ShiftAddNAS and the two ShiftNAS papers.

Subpackages: ``ops`` (Conv / Attn / Shift / Add and heterogeneous weight sharing),
``cost`` (operation counts, unit energies, the Eyeriss-like dataflow model, the model zoo),
``spaces`` / ``supernets`` / ``search`` (search spaces, supernets and search strategies),
``data`` (Fashion-MNIST, CIFAR, ImageNet, the gettext translation corpus, WMT'14),
``train`` (training loops), plus the pipeline pieces: ``profiles``, ``artifacts``, ``cache``,
``outputs``, ``notebook``, ``pipeline``, ``report``.
"""
__version__ = "0.1.0"
