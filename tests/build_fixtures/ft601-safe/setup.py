import sysconfig
from setuptools import setup, Extension

FT = sysconfig.get_config_var("Py_GIL_DISABLED")
macros = []
if not FT:
    macros.append(("Py_LIMITED_API", "0x030900f0"))
a = Extension("a", ["a.c"], py_limited_api=not FT)
b = Extension("b", ["b.c"], define_macros=macros, py_limited_api=False)
options = {"bdist_wheel": {"py_limited_api": "cp39"}} if not FT else {}
setup(ext_modules=[a, b], options=options)
