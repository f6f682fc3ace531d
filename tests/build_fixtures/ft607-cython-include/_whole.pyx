# cython: freethreading_compatible=True
include "_part.pyx"
