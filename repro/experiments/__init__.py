"""Experiment drivers the notebooks call: each returns data frames and results, cached by input hash. Import from the submodules."""
