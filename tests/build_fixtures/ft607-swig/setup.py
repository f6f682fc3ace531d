from setuptools import setup, Extension
setup(ext_modules=[Extension("_spam", ["spam.i"], swig_opts=["-c++"])])
