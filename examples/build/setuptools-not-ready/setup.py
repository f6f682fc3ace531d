from setuptools import Extension, setup

setup(
    ext_modules=[Extension("chirp", ["src/chirp.c"], py_limited_api=True)],  # expect: FT601
    options={"bdist_wheel": {"py_limited_api": "cp310"}},  # expect: FT601
)
