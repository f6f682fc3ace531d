# cython: language_level=3  # expect: FT607
"""Counts items; no module-level mutable state."""

def tally(items):
    cdef Py_ssize_t n = 0
    for _ in items:
        n += 1
    return n
