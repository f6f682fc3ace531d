# cython: language_level=3  # expect: FT607
# (the directive comment below is after code, so Cython ignores it)
def f():
    return 1
# cython: freethreading_compatible=True
