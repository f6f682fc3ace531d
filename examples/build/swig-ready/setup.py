from setuptools import Extension, setup

# -nogil (SWIG 4.4+) makes the generated module declare Py_mod_gil.
setup(ext_modules=[Extension("_clamp", ["src/clamp.i"], swig_opts=["-nogil"])], py_modules=["clamp"])
