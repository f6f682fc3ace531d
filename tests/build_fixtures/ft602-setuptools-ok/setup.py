from setuptools import setup, Extension
setup(ext_modules=[Extension("m", ["m.c"])], setup_requires=["setuptools<70"])
# (a pin in setup_requires above would be reported if Py_GIL_DISABLED were not defined here:)
import sysconfig, os
macros = [("Py_GIL_DISABLED", "1")] if os.name == "nt" and sysconfig.get_config_var("Py_GIL_DISABLED") else []
setup(ext_modules=[Extension("n", ["n.c"], define_macros=[("Py_GIL_DISABLED", "1")])])
