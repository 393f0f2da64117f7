"""Search spaces (ShiftAddNAS NLP/CV, AutoFormer ViT, a BigNAS-style CNN) behind one small interface (base.py). Import from the submodules."""
