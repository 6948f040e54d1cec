"""Sets of Unicode code points as sorted tuples of disjoint, non-adjacent inclusive ranges.

Shared by the regex compiler (character classes) and the JSON Schema lowering (string classes).
"""

from __future__ import annotations

from typing import Iterable

MAX_CODE_POINT = 0x10FFFF
CodePoints = tuple[tuple[int, int], ...]


def normalize(ranges: Iterable[tuple[int, int]]) -> CodePoints:
    """Sort and merge ranges; empty ranges (lo > hi) are dropped."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def complement(ranges: CodePoints) -> CodePoints:
    out = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def union(*sets: CodePoints) -> CodePoints:
    return normalize([r for s in sets for r in s])


def intersect(a: CodePoints, b: CodePoints) -> CodePoints:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: CodePoints, b: CodePoints) -> CodePoints:
    return intersect(a, complement(b))
