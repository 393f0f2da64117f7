"""``python -m repro cost``: list the zoo, or cost one model (params, MACs by op type, energy, latency)."""
from __future__ import annotations

import argparse
import json
import sys

from repro.cost.eyeriss import BITS, ENERGY_MODELS, HardwareConfig


def main(argv: list[str] | None = None) -> int:
    from repro.cost import zoo

    parser = argparse.ArgumentParser(prog="python -m repro cost", description=__doc__)
    parser.add_argument("model", nargs="?", help="a zoo model (see --list)")
    parser.add_argument("--list", action="store_true", help="list the zoo's models")
    parser.add_argument("--bits", type=int, default=32, choices=BITS, help="operand precision (default 32)")
    parser.add_argument("--resolution", type=int, help="input image side (image models only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--energy-model", default="ours", choices=ENERGY_MODELS,
                        help="ours (default) or released: the released ShiftAddNAS code's charging rules")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(zoo.names()))
        return 0
    if not args.model:
        print("error: no model given: name one of the zoo's models, e.g. `python -m repro cost "
              f"{zoo.names()[0]}`:\n  " + "\n  ".join(zoo.names()), file=sys.stderr)
        return 2
    try:
        result = zoo.cost(args.model, bits=args.bits, resolution=args.resolution,
                          hw=HardwareConfig(energy_model=args.energy_model))
    except (KeyError, ValueError, ImportError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    g = lambda v: f"{v / 1e9:.3f} G"  # noqa: E731
    print(f"{result['model']} ({args.bits}-bit, input {tuple(result['input_shape'])})")
    print(f"  params      {result['params'] / 1e6:.2f} M")
    print(f"  MACs        {g(result['macs'])}   FLOPs {g(result['flops'])}   effective FLOPs {g(result['effective_flops'])}")
    print(f"  #Mult       {g(result['mult'])}   #Add {g(result['add'])}   #Shift {g(result['shift'])}")
    print(f"  energy      {result['energy_mj']:.2f} mJ   latency {result['latency_ms']:.2f} ms (Eyeriss-like model, {args.energy_model}, 250 MHz)")
    if result["conventions"]:
        print(f"  conventions {result['conventions']}")
    return 0
