"""Search strategies: evolution, DOTS (bit-shift ShiftNAS), probability shift and the architecture generator. Import from the submodules."""
