"""Architecture files: one searched architecture as a small JSON file, to build, cost or retrain it.

A file is an envelope around one config::

    {"format": "repro-arch", "version": 1, "kind": "shiftaddnas-nlp",
     "config": {...}, "meta": {"scale": "paper", "budget": ...}}

Kinds and their configs:

* ``shiftaddnas-cv``: a config of :class:`repro.spaces.shiftaddnas_cv.ShiftAddNASCVSpace`
  (``{"stages": [[code, ...], ...]}``); ``meta["scale"]`` one of its scales (paper, small, tiny);
* ``shiftaddnas-nlp``: a config of :class:`repro.spaces.shiftaddnas_nlp.ShiftAddNASNLPSpace`;
  ``meta["scale"]`` as above;
* ``darts-genotype``: a :class:`repro.spaces.darts.Genotype`, stored as ``dataclasses.asdict`` does
  (``{"normal": [[op, input], ...], "reduce": [...]}``); ``meta["scale"]`` the evaluation network
  (cifar10, cifar100: bit-shift paper Sec. 5.1; imagenet: Sec. 5.2);
* ``autoformer-vit``: a subnet of an AutoFormer space (:mod:`repro.spaces.autoformer`);
  ``meta["scale"]`` the space (T, S, B, or T-fashion, S-fashion, B-fashion);
* ``bignas-cnn``: a subnet of a BigNAS-style CNN space (:mod:`repro.spaces.bignas_cnn`,
  ``{"width": [...], "depth": [...], "kernel": [[...], ...]}``); ``meta["scale"]`` the space (cnn-fashion).

A config is validated against the space of ``meta["scale"]`` when given, else it must be valid at one
of the kind's scales (and, to be built, at exactly one, or the kind has a default: cifar10 for genotypes). ``meta`` holds anything JSON can store (scale, space, budget, source).
``python -m repro train`` writes raw configs (``arch.json``, ``genotype.json``, no envelope): they
load with ``read_arch(path, kind=...)``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from repro.cache import atomic_write_text
from repro.data.errors import DataError
from repro.spaces.autoformer import get_space
from repro.spaces.base import InvalidConfig
from repro.spaces.bignas_cnn import SPACES as CNN_SPACES
from repro.spaces.darts import Genotype
from repro.spaces.shiftaddnas_cv import SCALES as CV_SCALES
from repro.spaces.shiftaddnas_cv import ShiftAddNASCVSpace
from repro.spaces.shiftaddnas_nlp import SCALES as NLP_SCALES
from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace

FORMAT, VERSION = "repro-arch", 1


def _genotype(config: Any) -> Genotype:
    if isinstance(config, Genotype):
        return config
    if not isinstance(config, dict) or set(config) != {"normal", "reduce"}:
        raise InvalidConfig(f"a genotype is {{'normal': [[op, input], ...], 'reduce': [...]}}, got {config!r}")
    try:
        return Genotype(**{k: tuple((str(op), int(src)) for op, src in config[k]) for k in ("normal", "reduce")})
    except (TypeError, ValueError) as err:
        raise InvalidConfig(f"not a genotype: {err}") from err


def _space_config(make: Callable[[str], Any]) -> Callable[[Any, str], Any]:
    def check(config: Any, scale: str) -> Any:
        make(scale).validate(config)
        return config
    return check


def _darts(config: Any, scale: str) -> Genotype:
    return _genotype(config)


@dataclass(frozen=True)
class Kind:
    """One kind of architecture: its scales and how a config of one scale is validated (and parsed)."""
    name: str
    scales: tuple[str, ...]
    check: Callable[[Any, str], Any]
    default: str | None = None  # the scale of a config valid at several when meta names none


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("shiftaddnas-cv", tuple(CV_SCALES), _space_config(ShiftAddNASCVSpace)),
    Kind("shiftaddnas-nlp", tuple(NLP_SCALES), _space_config(ShiftAddNASNLPSpace)),
    Kind("darts-genotype", ("cifar10", "cifar100", "imagenet"), _darts, default="cifar10"),
    Kind("autoformer-vit", ("T", "S", "B", "T-fashion", "S-fashion", "B-fashion"), _space_config(get_space)),
    Kind("bignas-cnn", tuple(CNN_SPACES), _space_config(CNN_SPACES.__getitem__)),
)}


def kind_of(name: str) -> Kind:
    """The kind ``name``; an unknown one lists the valid ones."""
    if name not in KINDS:
        raise InvalidConfig(f"unknown architecture kind {name!r}; valid kinds: {', '.join(KINDS)}")
    return KINDS[name]


def validate(kind: str, config: Any, scale: str | None = None) -> tuple[Any, tuple[str, ...]]:
    """``(config, scales)``: the config parsed (a :class:`Genotype` for ``darts-genotype``) and the scales
    it is valid at (``(scale,)`` when given, else every scale of the kind it fits); none is an error."""
    k = kind_of(kind)
    if scale is not None and scale not in k.scales:
        raise InvalidConfig(f"{kind}: unknown scale {scale!r}; valid scales: {', '.join(k.scales)}")
    parsed, valid, errors = None, [], []
    for s in (scale,) if scale is not None else k.scales:
        try:
            parsed = k.check(config, s)
            valid.append(s)
        except (ValueError, TypeError, KeyError) as err:  # InvalidConfig, or a malformed value
            errors.append(f"{s}: {err}")
    if not valid:
        raise InvalidConfig(f"not a {kind} architecture at " + ("; at ".join(errors)))
    return parsed, tuple(valid)


@dataclass(frozen=True)
class ArchFile:
    """An architecture: its kind, its config (a :class:`Genotype` for ``darts-genotype``, else the
    space's dict) and free metadata (``scale``, budget, source); validated on construction."""
    kind: str
    config: Any
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.meta, dict):
            raise InvalidConfig(f"meta must be a dict, got {type(self.meta).__name__}")
        config, _ = validate(self.kind, self.config, self.meta.get("scale"))
        object.__setattr__(self, "config", config)

    @property
    def scale(self) -> str:
        """``meta["scale"]``, else the one scale the config is valid at, else the kind's default; a config
        valid at several scales of a kind without a default is an :class:`InvalidConfig` (ambiguous)."""
        if self.meta.get("scale"):
            return self.meta["scale"]
        scales = validate(self.kind, self.config)[1]
        if len(scales) == 1:
            return scales[0]
        if KINDS[self.kind].default:
            return KINDS[self.kind].default
        raise InvalidConfig(f"this {self.kind} config is valid at scales {', '.join(scales)}: name one "
                            "(meta scale=..., or --scale)")

    def to_json(self) -> dict:
        config = asdict(self.config) if isinstance(self.config, Genotype) else self.config
        return {"format": FORMAT, "version": VERSION, "kind": self.kind, "config": config, "meta": self.meta}


def write_arch(path: str | Path, kind: str, config: Any, **meta: Any) -> Path:
    """Validate and write one architecture file (atomically); returns its path."""
    path = Path(path)
    arch = ArchFile(kind, config, meta)
    try:
        text = json.dumps(arch.to_json(), indent=2, sort_keys=True) + "\n"
    except TypeError as err:
        raise InvalidConfig(f"meta of {path} must hold JSON values (str, numbers, lists, dicts): {err}") from err
    return atomic_write_text(path, text)


def read_arch(path: str | Path, kind: str | None = None) -> ArchFile:
    """One architecture file. A raw config (no envelope, as ``python -m repro train`` writes
    ``arch.json`` / ``genotype.json``) needs ``kind``; an envelope of another kind than ``kind`` is an
    error. Every error is a :class:`DataError` naming the file and the fix."""
    path = Path(path)
    fix = ("give a file written by repro.spaces.arch_files.write_arch, or a raw config with its kind "
           f"(read_arch(path, kind=...), `--kind`; kinds: {', '.join(KINDS)})")
    if kind is not None and kind not in KINDS:
        raise DataError(path, f"unknown architecture kind {kind!r} asked for", f"use one of {', '.join(KINDS)}")
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise DataError(path, f"cannot be read ({err.strerror or err})", fix) from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(path, f"is not JSON ({err})", fix) from err
    if isinstance(data, dict) and data.get("format") == FORMAT:
        missing = [k for k in ("version", "kind", "config") if k not in data]
        if missing:
            raise DataError(path, f"architecture file without {missing}", fix)
        if data["version"] != VERSION:
            raise DataError(path, f"architecture file version {data['version']!r}, this code reads {VERSION}",
                            "write it again with this version's write_arch")
        if data["kind"] not in KINDS:
            raise DataError(path, f"unknown architecture kind {data['kind']!r}", f"use one of {', '.join(KINDS)}")
        if kind is not None and data["kind"] != kind:
            raise DataError(path, f"holds a {data['kind']} architecture, a {kind} one was asked for",
                            f"give a {kind} file, or ask for kind {data['kind']!r}")
        arch_kind, config, meta = data["kind"], data["config"], data.get("meta") or {}
    elif kind is None:
        raise DataError(path, "holds a raw config without the architecture envelope (no kind)", fix)
    else:
        arch_kind, config, meta = kind, data, {}
    try:
        return ArchFile(arch_kind, config, meta)
    except InvalidConfig as err:
        raise DataError(path, f"does not validate as {arch_kind} ({err})",
                        "fix the config (the message names the valid choices) or its meta scale") from err
