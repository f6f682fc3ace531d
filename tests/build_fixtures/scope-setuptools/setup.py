import glob
import os
from setuptools import setup, Extension

HERE = os.path.dirname(os.path.abspath(__file__))
core_sources = ["src/core.c", "extern/minilib/minilib.c"]
core_sources += sorted(glob.glob(os.path.join("src", "codecs", "*.c")))

setup(
    name="scoped",
    classifiers=["Programming Language :: Python :: Free Threading :: 2 - Beta"],
    ext_modules=[
        Extension(
            "scoped._core",
            sources=core_sources,
            include_dirs=[os.path.join(HERE, "include"), "extern/minilib"],
        ),
    ],
)
