"""The embedded datasets every later notebook uses (notebook 00): Fashion-MNIST (Debian's
``dataset-fashion-mnist``) and the English-German / English-French corpus built from Debian's gettext
catalogs. No claim of the papers is decided here, so the study has no ``claims`` part: ``run`` loads the
data of a profile, ``tables`` and ``figures`` describe it.
"""
from repro.experiments.data_overview import figures, run, tables
