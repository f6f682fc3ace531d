#!/usr/bin/env python3
"""Compile single-file C/C++ extension modules for one interpreter, without pip.

Usage: compile-extension.py --python PY --out DIR [--define NAME[=VAL]] [--cflag FLAG] SOURCE...

Each SOURCE (foo.c or foo.cpp) becomes DIR/foo<EXT_SUFFIX> built with the compiler
and flags from that interpreter's sysconfig. Prints one line per module:
"ok <path>" or "failed <source>: <first error line>". Exit status 0 if every
module compiled, 1 otherwise.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys


def interpreter_config(python):
    code = (
        "import sysconfig, json;"
        "v = sysconfig.get_config_vars();"
        "print(json.dumps({k: v.get(k) for k in ('CC', 'CXX', 'CFLAGS', 'CCSHARED', 'LDSHARED', 'EXT_SUFFIX', 'Py_GIL_DISABLED', 'LDFLAGS')}"
        " | {'include': sysconfig.get_paths()['include']}))"
    )
    try:
        r = subprocess.run([python, "-c", code], capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"compile-extension: error: cannot run {python}: {e}")
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"compile-extension: error: {python} could not report its sysconfig: {last}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--define", action="append", default=[])
    ap.add_argument("--cflag", action="append", default=[], help="extra compiler flag (repeatable)")
    ap.add_argument("sources", nargs="+")
    a = ap.parse_args()
    cfg = interpreter_config(a.python)
    os.makedirs(a.out, exist_ok=True)
    defines = ["-D" + d for d in a.define]
    ok = True
    for src in a.sources:
        name = os.path.splitext(os.path.basename(src))[0]
        target = os.path.join(a.out, name + cfg["EXT_SUFFIX"])
        cpp = src.endswith((".cpp", ".cc", ".cxx"))
        cc = shlex.split(cfg["CXX"] if cpp else cfg["CC"]) or ["cc"]
        flags = ["-O1", "-fPIC", "-shared", "-I" + cfg["include"]] + defines + a.cflag
        if cpp:
            flags.append("-std=c++17")
        else:
            flags.append("-std=c11")
        cmd = cc + flags + [src, "-o", target]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as e:
            sys.exit(f"compile-extension: error: cannot run the compiler {cc[0]!r} (from {a.python}'s sysconfig): {e}")
        if r.returncode == 0:
            print("ok", target)
        else:
            ok = False
            first = next((l for l in r.stderr.splitlines() if "error" in l), r.stderr.strip()[:200])
            print(f"failed {src}: {first}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
