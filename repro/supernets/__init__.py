"""Supernets on shared largest weights (ShiftAddNAS NLP and CV, AutoFormer ViT, a BigNAS-style CNN) and their
contract, :class:`~repro.supernets.base.Supernet`; the contract and the networks are public names here."""
from repro.supernets.base import Supernet
from repro.supernets.cnn import CNNSupernet
from repro.supernets.shiftaddnas_cv import CVNet, CVSupernet
from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer
from repro.supernets.vit import ViTSupernet

__all__ = ["CNNSupernet", "CVNet", "CVSupernet", "ShiftAddNASTransformer", "Supernet", "ViTSupernet"]
