from setuptools import setup, Extension
from Cython.Build import cythonize
setup(ext_modules=cythonize([Extension("a", ["a.pyx"])],  # expect: FT606
                            compiler_directives={"language_level": 3, "freethreading_compatible": True}))
