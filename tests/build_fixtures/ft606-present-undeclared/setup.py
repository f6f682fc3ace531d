from setuptools import setup, Extension
from Cython.Build import cythonize
setup(
    name="fast",
    classifiers=["Programming Language :: Python :: Free Threading :: 1 - Unstable"],  # expect: FT606
    ext_modules=cythonize([Extension("fast", ["fast.pyx"])]),
)
