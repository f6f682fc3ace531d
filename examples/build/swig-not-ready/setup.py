from setuptools import Extension, setup

setup(ext_modules=[Extension("_clamp", ["src/clamp.i"], swig_opts=["-threads"])], py_modules=["clamp"])
