from setuptools import setup, Extension
CLASSIFIERS = [
    "Programming Language :: Python :: 3",
]
setup(ext_modules=[Extension("okmod", ["okmod.c"])], classifiers=CLASSIFIERS)  # expect: FT606
