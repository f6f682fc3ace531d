# cython: language_level=3, freethreading_compatible=True
def g():
    return 2
