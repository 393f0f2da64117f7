"""Search spaces (ShiftAddNAS NLP/CV, AutoFormer ViT, a BigNAS-style CNN) behind one small interface (base.py).

Each space class is registered at its definition (kind ``"space"``):
``repro.registry.get("space", "shiftaddnas-nlp")``, ``repro.registry.list_names("space")``.
"""
from repro.spaces.autoformer import ViTSpace
from repro.spaces.base import Config, InvalidConfig, SearchSpace
from repro.spaces.bignas_cnn import CNNSpace
from repro.spaces.shiftaddnas_cv import CVSpaceDims, ShiftAddNASCVSpace
from repro.spaces.shiftaddnas_nlp import NlpSpaceDims, ShiftAddNASNLPSpace

__all__ = ["CNNSpace", "CVSpaceDims", "Config", "InvalidConfig", "NlpSpaceDims", "SearchSpace", "ShiftAddNASCVSpace",
           "ShiftAddNASNLPSpace", "ViTSpace"]
