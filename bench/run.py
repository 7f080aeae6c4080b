"""Run every benchmark module in bench/ (each a script printing ratios against a floor
timed in the same run), on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL.

A module is any ``bench/*.py`` but this runner and helpers (``_*.py``); new ones (the
Odyssey CSV import's, say) are picked up without a change here. ``make bench``.
Nothing here asserts a time: read the ratios.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def modules(only: list[str]) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != "run.py" and not p.name.startswith("_"))
    return [p for p in found if not only or p.stem in only]


def main(argv: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), str(BENCH.parent), os.environ.get("PYTHONPATH", "")])}
    failed = []
    backends = os.environ.get("BENCH_BACKENDS") or f"sqlite{' + postgresql' if os.environ.get('TEST_DATABASE_URL') else ''}"
    print(f"backends: {backends}; "
          f"sizes: {os.environ.get('BENCH_SIZES', '1000,10000,100000')} bookings; "
          f"rounds: {os.environ.get('BENCH_ROUNDS', '7')}", flush=True)
    for module in modules(argv):
        print(f"\n== {module.name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(module)], cwd=BENCH, env=env)
        print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
        if result.returncode:
            failed.append(module.name)
    if failed:
        print(f"\nmodules that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
