"""Supernets with set_active_subnet(config) on shared largest weights (ShiftAddNAS NLP and CV, AutoFormer ViT, a
BigNAS-style CNN); their networks are public names here."""
from repro.supernets.cnn import CNNSupernet
from repro.supernets.shiftaddnas_cv import CVNet, CVSupernet
from repro.supernets.shiftaddnas_nlp import ShiftAddNASTransformer
from repro.supernets.vit import ViTSupernet

__all__ = ["CNNSupernet", "CVNet", "CVSupernet", "ShiftAddNASTransformer", "ViTSupernet"]
