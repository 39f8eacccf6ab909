"""What the CPU computes natively, read from /proc/cpuinfo (importing OpenVINO to ask costs more)."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def flags() -> frozenset[str]:
    try:
        return frozenset(Path("/proc/cpuinfo").read_text(errors="replace").split())
    except OSError:
        return frozenset()


def has_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16."""
    return bool(flags() & {"avx512_bf16", "amx_bf16"})


def has_int8_dot() -> bool:
    """An int8 dot-product unit: AVX512-VNNI, AVX-VNNI or AMX-INT8."""
    return bool(flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})
