"""The benchmark runner's modules live in bench/ (scripts, not a package): import them
the way the scripts import each other, from that folder."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
