"""Cost models: operation counts by type, unit energies, the Eyeriss-like dataflow model, the paper-scale model zoo."""
