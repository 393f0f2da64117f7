"""Standalone networks the studies train from scratch that are neither supernets nor zoo models for counting
(the zoo lives in :mod:`repro.cost.models`). A floor beside :mod:`repro.supernets`: it imports only
:mod:`repro.ops`, :mod:`repro.spaces` and :mod:`repro.supernets`.
"""
