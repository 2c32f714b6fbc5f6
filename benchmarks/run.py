"""Run the benchmarks: ``python -m benchmarks.run [calibration ...] [--quick] [--timeout S]``.

Each benchmark writes ``benchmarks/results/<name>.json``. Benchmarks that need the
project's shared data (``../shared/data``) skip cleanly without it.
"""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = ("calibration", "diagnostics", "simulation", "engine", "service", "distributed")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {BENCHMARKS})"
    )
    parser.add_argument("--quick", action="store_true", help="small cases only (a smoke run)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per tool and case")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}")
        module.run(quick=args.quick, timeout=args.timeout)


if __name__ == "__main__":
    main()
