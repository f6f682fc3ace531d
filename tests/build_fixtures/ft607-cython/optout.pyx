# cython: freethreading_compatible=False  # expect: FT607
def h():
    return 3
