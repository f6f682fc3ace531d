"""`python -m ftaudit ARGS...`: run the `ftaudit` executable of this installation."""

import os
import sys

from ftaudit import find_ftaudit_bin


def main():
    try:
        exe = find_ftaudit_bin()
    except FileNotFoundError as e:
        sys.stderr.write(
            "ftaudit: error: the ftaudit executable was not found (looked for %s); "
            "reinstall the package with pip\n" % e
        )
        return 2
    argv = [exe, *sys.argv[1:]]
    if sys.platform == "win32":
        # os.exec* on Windows starts a new process and returns to the shell at once,
        # so the exit status would be lost: wait for the child instead.
        import subprocess

        try:
            return subprocess.call(argv)
        except KeyboardInterrupt:
            return 130
    os.execv(exe, argv)


if __name__ == "__main__":
    sys.exit(main())
