"""ftaudit: find, explain and fix what keeps a CPython extension from running correctly
on free-threaded Python.

The work is done by the `ftaudit` executable installed next to this package (the wheel
is built by maturin with `bindings = "bin"`, as ruff and uv are). This package only
finds that executable (`python -m ftaudit`) and provides the pytest plugin
(`ftaudit.pytest_plugin`).
"""

import os
import sys
import sysconfig

__all__ = ["find_ftaudit_bin"]


def _user_scheme():
    if sys.version_info >= (3, 10):
        return sysconfig.get_preferred_scheme("user")
    if os.name == "nt":
        return "nt_user"
    if sys.platform == "darwin" and getattr(sys, "_framework", None):
        return "osx_framework_user"
    return "posix_user"


def find_ftaudit_bin():
    """The path of the `ftaudit` executable installed with this package.

    Looked for where pip puts scripts: the environment's scripts folder (a venv, the base
    interpreter), the user scheme's (`pip install --user`), and `bin/` next to the
    package (`pip install --target`). `PATH` is not searched: another installation
    could be another version. Raises FileNotFoundError naming the first place tried.
    """
    exe = "ftaudit" + (sysconfig.get_config_var("EXE") or "")
    places = [sysconfig.get_path("scripts")]
    try:
        places.append(sysconfig.get_path("scripts", scheme=_user_scheme()))
    except KeyError:
        pass
    places.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"))
    for folder in places:
        if not folder:
            continue
        candidate = os.path.join(folder, exe)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(os.path.join(places[0] or "", exe))
