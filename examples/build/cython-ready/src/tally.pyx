# cython: language_level=3, freethreading_compatible=True
"""Counts items; no module-level mutable state."""

def tally(items):
    cdef Py_ssize_t n = 0
    for _ in items:
        n += 1
    return n
