import sysconfig
from setuptools import setup, Extension

# Unconditional requests: each is reported.
a = Extension("a", ["a.c"], py_limited_api=True)  # expect: FT601
b = Extension("b", ["b.c"],
              define_macros=[("Py_LIMITED_API", "0x030900f0")])  # expect: FT601
c = Extension("c", ["c.c"], extra_compile_args=["-DPy_LIMITED_API=0x03090000"])  # expect: FT601
setup(ext_modules=[a, b, c], options={"bdist_wheel": {"py_limited_api": "cp39"}})  # expect: FT601
