"""Cost models: operation counts by type, unit energies, the Eyeriss-like dataflow model, the paper-scale model zoo.

* :mod:`repro.cost.counting` — params, MACs and the #Mult / #Add / #Shift split of one forward pass
  (a registry of per-module formulas; ``count(model, shape)``).
* :mod:`repro.cost.unit_energy` — pJ per operation (``data/unit_energy.csv``) and the ratios the
  ShiftAddNAS text quotes.
* :mod:`repro.cost.eyeriss` — per-layer tiling over a 168-PE array; energy (mJ) and latency (ms).
* :mod:`repro.cost.zoo` — the models the papers compare, by name; ``python -m repro cost MODEL``.
* :mod:`repro.cost.measured` — a forward pass timed on this machine (the latency predictor's measured targets).
"""

from repro.cost.counting import Layer, LayerShape, OpCounts, count
from repro.cost.eyeriss import HardwareConfig, NetworkCost, network_cost

__all__ = ["HardwareConfig", "Layer", "LayerShape", "NetworkCost", "OpCounts", "count", "network_cost"]
