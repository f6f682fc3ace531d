from setuptools import setup, Extension
import metadata
setup(ext_modules=[Extension("okmod", ["okmod.c"])], classifiers=metadata.CLASSIFIERS)
