"""Supernets with set_active_subnet(config) on shared largest weights. Import from the submodules."""
