import sysconfig

from setuptools import Extension, setup

# No limited API on free-threaded builds: 3.13t/3.14t have none.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

setup(
    ext_modules=[Extension("chirp", ["src/chirp.c"], py_limited_api=not FREE_THREADED)],
    options={} if FREE_THREADED else {"bdist_wheel": {"py_limited_api": "cp310"}},
)
