"""``python -m repro cost``: list the zoo, or cost one model (params, MACs by op type, energy, latency).

    python -m repro cost MODEL                  a zoo model (see --list)
    python -m repro cost --hat-config FILE.yml  a HAT SubTransformer, under HAT's conventions
    python -m repro cost --arch FILE            an architecture file (repro.spaces.arch_files)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from repro.cost.counting import count
from repro.cost.eyeriss import BITS, ENERGY_MODELS, HardwareConfig, layers_cost

DARTS_NETWORKS = {"cifar10": ((1, 3, 32, 32), 10), "cifar100": ((1, 3, 32, 32), 100), "imagenet": ((1, 3, 224, 224), 1000)}


def _counted(model: nn.Module, example: tuple, hw: HardwareConfig, exclude: tuple[str, ...] = ()) -> dict:
    """The zoo's numbers (:func:`repro.cost.zoo.counts_cost`) of one forward pass of ``model``."""
    from repro.cost.zoo import counts_cost

    return counts_cost(count(model, example, exclude=exclude), hw)


def hat_cost(path: Path, hw: HardwareConfig, tokens: int) -> dict:
    """A HAT SubTransformer: HAT's #Params and FLOPs, the dataflow model on its matmuls, and the config
    of the ShiftAddNAS NLP space (paper scale) it converts to, with that space's counts (or why not)."""
    from repro.spaces import hat
    from repro.spaces.base import InvalidConfig
    from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace

    cfg = hat.read_hat_config(path)
    layers = [layer for _, layer in hat.hat_layers(cfg, tokens)]
    macs, flops = hat.hat_macs(cfg, tokens), hat.hat_flops(cfg, tokens)
    net = layers_cost(layers, hw)
    space = ShiftAddNASNLPSpace("paper")
    try:
        config = hat.from_hat(cfg, space)
        ours = {"config": config, "params": space.params(config), "flops": space.flops(config)}
    except InvalidConfig as err:
        ours = {"error": str(err)}
    return {"model": str(path), "kind": "hat-subtransformer", "bits": hw.bits, "params": hat.hat_params(cfg),
            "macs": macs, "flops": flops, "effective_flops": flops * (hw.bits / 32) ** 2, "mult": macs, "add": macs,
            "shift": 0, "energy_mj": net.energy_mj, "latency_ms": net.latency_ms,
            "conventions": f"HAT: qkv-dim {hat.QKV_DIM}, no embeddings or output projection; {tokens} source + "
                           f"{tokens} target tokens; FLOPs = 2 x torchprofile MACs (LayerNorms and scalings "
                           "included); energy and latency of the matmuls", "shiftaddnas_nlp_paper": ours}


def arch_cost(path: Path, hw: HardwareConfig, scale: str | None, kind: str | None) -> dict:
    """An architecture file: the network it describes built without weights (``meta`` device), counted
    like the zoo's models; NLP params and FLOPs under HAT's conventions (the space's counts)."""
    from repro.spaces import arch_files

    arch = arch_files.read_arch(path, kind)
    scale = scale or arch.scale
    config = arch_files.validate(arch.kind, arch.config, scale)[0]
    with torch.device("meta"):
        if arch.kind == "shiftaddnas-cv":
            from repro.spaces.shiftaddnas_cv import dims_for
            from repro.supernets.shiftaddnas_cv import CVNet

            d = dims_for(scale)
            out = _counted(CVNet(d, config).eval(), (1, d.in_channels, d.input_size, d.input_size), hw)
        elif arch.kind == "shiftaddnas-nlp":
            from repro.spaces.shiftaddnas_nlp import ShiftAddNASNLPSpace
            from repro.cost.zoo import HAT_EXCLUDE
            from repro.supernets.shiftaddnas_nlp import standalone

            space = ShiftAddNASNLPSpace(scale)
            d = space.dims
            example = (torch.full((1, d.src_len), 4, dtype=torch.long), torch.full((1, d.tgt_len), 4, dtype=torch.long))
            out = _counted(standalone(config, d, 8, dropout=0.0).eval(), example, hw, HAT_EXCLUDE)
            out.update(params=space.params(config), flops=space.flops(config),
                       effective_flops=space.flops(config) * (hw.bits / 32) ** 2)
        elif arch.kind == "darts-genotype":
            from repro.supernets.darts import NetworkCIFAR, NetworkImageNet

            shape, classes = DARTS_NETWORKS[scale]
            domain = arch.meta.get("domain", "shift")
            net = (NetworkImageNet(genotype=config, domain=domain) if scale == "imagenet" else
                   NetworkCIFAR(num_classes=classes, genotype=config, domain=domain))
            out = _counted(net.eval(), shape, hw)
        elif arch.kind == "bignas-cnn":
            from repro.spaces.bignas_cnn import SPACES
            from repro.supernets.cnn import CNNSubnet

            space = SPACES[scale]
            out = _counted(CNNSubnet(space, config).eval(), (1, space.in_chans, space.img_size, space.img_size), hw)
        else:
            from repro.spaces.autoformer import get_space
            from repro.supernets.vit import ViTSubnet

            space = get_space(scale)
            out = _counted(ViTSubnet(space, config).eval(), (1, space.in_chans, space.img_size, space.img_size), hw)
    from repro.cost.zoo import HAT

    notes = {"shiftaddnas-nlp": HAT.note,
             "darts-genotype": f"the {scale} evaluation network of the bit-shift paper, {arch.meta.get('domain', 'shift')} domain"}
    return {"model": str(path), "kind": arch.kind, "scale": scale, "bits": hw.bits, **out,
            "conventions": notes.get(arch.kind, ""), "meta": arch.meta}


def _print(result: dict, energy_model: str) -> None:
    g = lambda v: f"{v / 1e9:.3f} G"  # noqa: E731
    shape = f"input {tuple(result['input_shape'])}" if "input_shape" in result else result.get("kind", "")
    scale = f", scale {result['scale']}" if result.get("scale") else ""
    print(f"{result['model']} ({result['bits']}-bit, {shape}{scale})")
    print(f"  params      {result['params'] / 1e6:.2f} M")
    print(f"  MACs        {g(result['macs'])}   FLOPs {g(result['flops'])}   effective FLOPs {g(result['effective_flops'])}")
    print(f"  #Mult       {g(result['mult'])}   #Add {g(result['add'])}   #Shift {g(result['shift'])}")
    print(f"  energy      {result['energy_mj']:.2f} mJ   latency {result['latency_ms']:.2f} ms (Eyeriss-like model, {energy_model}, 250 MHz)")
    if result["conventions"]:
        print(f"  conventions {result['conventions']}")
    ours = result.get("shiftaddnas_nlp_paper")
    if ours is not None:
        if "error" in ours:
            print(f"  ShiftAddNAS NLP space: not expressible ({ours['error']})")
        else:
            print(f"  ShiftAddNAS NLP space (paper scale): params {ours['params'] / 1e6:.2f} M   FLOPs {g(ours['flops'])}"
                  "   (head width 64: a HAT layer of h heads becomes h x 64 wide)")


def main(argv: list[str] | None = None) -> int:
    from repro.cost import zoo
    from repro.data.errors import DataError

    parser = argparse.ArgumentParser(prog="python -m repro cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="a zoo model (see --list)")
    parser.add_argument("--list", action="store_true", help="list the zoo's models")
    parser.add_argument("--hat-config", type=Path, metavar="FILE.yml",
                        help="a HAT SubTransformer config (HAT's configs/<task>/subtransformer/HAT_*.yml)")
    parser.add_argument("--tokens", type=int,
                        help="source and target tokens of --hat-config (default 30, HAT's WMT length; 23 for IWSLT)")
    parser.add_argument("--arch", type=Path, metavar="FILE", help="an architecture file (JSON, repro.spaces.arch_files)")
    parser.add_argument("--kind", help="the kind of a raw --arch config without the envelope (e.g. an arch.json "
                                       "of `python -m repro train`): shiftaddnas-cv, shiftaddnas-nlp, darts-genotype, "
                                       "autoformer-vit")
    parser.add_argument("--scale", help="the --arch scale (default: the file's meta scale): paper / small / tiny "
                                        "(ShiftAddNAS), cifar10 / cifar100 / imagenet (genotypes), T / S / B[-fashion] (ViT)")
    parser.add_argument("--bits", type=int, default=32, choices=BITS, help="operand precision (default 32)")
    parser.add_argument("--resolution", type=int, help="input image side (image models only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--energy-model", default="ours", choices=ENERGY_MODELS,
                        help="ours (default) or released: the released ShiftAddNAS code's charging rules")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(zoo.names()))
        return 0
    given = [name for name, v in (("MODEL", args.model), ("--hat-config", args.hat_config), ("--arch", args.arch)) if v]
    if len(given) > 1:
        print(f"error: give one of MODEL, --hat-config, --arch (got {' and '.join(given)})", file=sys.stderr)
        return 2
    if not given:
        print("error: no model given: name one of the zoo's models, e.g. `python -m repro cost "
              f"{zoo.names()[0]}`, or pass --hat-config FILE.yml or --arch FILE:\n  " + "\n  ".join(zoo.names()),
              file=sys.stderr)
        return 2
    misplaced = [opt for opt, v, owner in (("--scale", args.scale, args.arch), ("--kind", args.kind, args.arch),
                                           ("--resolution", args.resolution, args.model),
                                           ("--tokens", args.tokens, args.hat_config)) if v is not None and not owner]
    if misplaced:
        print(f"error: {', '.join(misplaced)} does not apply to {given[0]}", file=sys.stderr)
        return 2
    if args.tokens is not None and args.tokens < 1:
        print(f"error: --tokens must be >= 1, got {args.tokens}", file=sys.stderr)
        return 2
    hw = HardwareConfig(energy_model=args.energy_model)
    try:
        if args.hat_config:
            from repro.spaces.hat import TOKENS

            result = hat_cost(args.hat_config, replace(hw, bits=args.bits), args.tokens or TOKENS)
        elif args.arch:
            result = arch_cost(args.arch, replace(hw, bits=args.bits), args.scale, args.kind)
        else:
            result = zoo.cost(args.model, bits=args.bits, resolution=args.resolution, hw=hw)
    except (DataError, KeyError, ValueError, ImportError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print(result, args.energy_model)
    return 0
