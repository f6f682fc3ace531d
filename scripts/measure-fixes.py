#!/usr/bin/env python3
"""Apply `ftaudit check --fix --unsafe-fixes` to real sdists and measure it.

Usage: measure-fixes.py --ftaudit BIN --python-ft PY --python-gil PY --work DIR NAME==VER...

For each sdist (fetched with `pip download --no-binary :all:` into DIR, never
committed), on a copy of its C/C++ sources:
  - the findings of the fixable families (FT001, FT101-FT104, FT201, FT202, FT401, FT403,
    FT406, FT501) and
    how many of them carry a fix (safe / unsafe);
  - after `--fix --unsafe-fixes`: every changed C file compiled for both
    interpreters (-Werror=implicit-function-declaration
    -Werror=incompatible-pointer-types), next to the same file unfixed: a file
    that did not compile before the fix (a missing generated header, say) is
    reported as "not compilable standalone", not as a success;
  - a second `--fix` changes nothing.
Prints one JSON object per project and a total line; exit 1 if a fixed file
fails to compile where the original compiled, or the second fix changed text.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

FAMILIES = ("FT001", "FT101", "FT102", "FT103", "FT104", "FT201", "FT202", "FT401", "FT403", "FT406", "FT501")
HERE = os.path.dirname(os.path.abspath(__file__))
# -c: compile only (a unit that is one part of a module has undefined symbols).
STRICT = ["--cflag=-c", "--cflag=-Werror=implicit-function-declaration", "--cflag=-Werror=incompatible-pointer-types"]


def fetch(spec, work):
    dl = os.path.join(work, "sdists")
    os.makedirs(dl, exist_ok=True)
    name = spec.split("==")[0]
    have = [p for p in glob.glob(os.path.join(dl, "*")) if os.path.basename(p).lower().replace("_", "-").startswith(name.lower().replace("_", "-") + "-")]
    if not have:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", spec, "-d", dl],
                       check=True, capture_output=True)
        have = [p for p in glob.glob(os.path.join(dl, "*")) if os.path.basename(p).lower().replace("_", "-").startswith(name.lower().replace("_", "-") + "-")]
    return sorted(have)[-1]


def extract(archive, dest):
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    if archive.endswith(".zip"):
        zipfile.ZipFile(archive).extractall(dest)
    else:
        with tarfile.open(archive) as t:
            t.extractall(dest, filter="data")


def check(ftaudit, root, *extra):
    r = subprocess.run([ftaudit, "check", ".", "--output-format", "json", *extra], cwd=root, capture_output=True, text=True)
    return json.loads(r.stdout)["diagnostics"] if r.stdout.strip().startswith("{") else []


def include_flags(root, src):
    """-I for the file's folder, the project's top folder and every folder named
    include/src/Include in it: enough for most sdists' own headers."""
    dirs = [os.path.dirname(src)]
    tops = [os.path.join(root, d) for d in os.listdir(root)]
    dirs += [t for t in tops if os.path.isdir(t)]
    for t in tops:
        for d, subdirs, _ in os.walk(t):
            dirs += [os.path.join(d, s) for s in subdirs if s in ("include", "Include", "src")]
    return ["--cflag=-I" + d for d in dirs]


def compiles(python, src, out, root, extra):
    flags = [f.replace("{root}", root) for f in extra]
    r = subprocess.run([sys.executable, os.path.join(HERE, "compile-extension.py"), "--python", python, "--out", out, *STRICT,
                        *include_flags(root, src), *["--cflag=" + f for f in flags], src],
                       capture_output=True, text=True)
    out_lines = (r.stdout + r.stderr).strip().splitlines()
    err = next((l.split("error:", 1)[1].strip() for l in out_lines if "error:" in l), out_lines[-1] if out_lines else "")
    return r.returncode == 0, err


def name_of(spec):
    return spec.split("==")[0].lower().replace("_", "-")


# What each project's setup.py passes that a standalone compile needs (only
# defines and include folders of libraries installed here).
PROJECT_FLAGS = {
    "pyxattr": ['-D_XATTR_VERSION="0"', '-D_XATTR_AUTHOR="a"', '-D_XATTR_EMAIL="e"'],
    "psycopg2": ["-I{root}/" + "psycopg2-2.9.13", "-I/usr/include/postgresql", '-DPSYCOPG_VERSION="2.9.13"', "-DPG_VERSION_NUM=150000", "-DHAVE_LO64=1"],
}


def sources(root):
    out = {}
    for p in glob.glob(os.path.join(root, "**", "*"), recursive=True):
        if p.endswith((".c", ".cpp", ".cc", ".cxx", ".h", ".hpp")) and os.path.isfile(p):
            with open(p, "rb") as f:
                out[p] = f.read()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ftaudit", required=True)
    ap.add_argument("--python-ft", required=True)
    ap.add_argument("--python-gil", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("specs", nargs="+")
    a = ap.parse_args()
    bad = False
    totals = {"findings": 0, "with_fix": 0, "safe": 0, "unsafe": 0, "files_fixed": 0, "compiled_both": 0, "not_standalone": 0, "broke": 0}
    for spec in a.specs:
        archive = fetch(spec, a.work)
        root = os.path.join(a.work, "tree", spec.split("==")[0])
        extract(archive, root)
        diags = [d for d in check(a.ftaudit, root, "--isolated") if d["code"] in FAMILIES]
        with_fix = [d for d in diags if d.get("fix")]
        safe = sum(1 for d in with_fix if d["fix"].get("applicability") == "safe")
        by_code = {}
        for d in diags:
            c = by_code.setdefault(d["code"], [0, 0])
            c[0] += 1
            c[1] += 1 if d.get("fix") else 0
        before = sources(root)
        subprocess.run([a.ftaudit, "check", ".", "--fix", "--unsafe-fixes", "--isolated", "--quiet"], cwd=root, capture_output=True)
        after = sources(root)
        changed = [p for p in after if after[p] != before.get(p)]
        subprocess.run([a.ftaudit, "check", ".", "--fix", "--unsafe-fixes", "--isolated", "--quiet"], cwd=root, capture_output=True)
        again = sources(root)
        idempotent = all(again[p] == after[p] for p in after)
        # Build units: a changed .c file, or the .c files that #include it (unity
        # builds such as guppy3's heapyc.c including hv.c); each compiled in a
        # pristine copy (before) and the fixed tree (after).
        pristine = root + ".before"
        extract(archive, pristine)
        results = []
        units = []
        for p in changed:
            if not p.endswith((".c", ".cpp", ".cc", ".cxx")):
                results.append((p, "header changed"))
                continue
            base = os.path.basename(p)
            includers = [q for q in after if q.endswith((".c", ".cpp")) and q != p
                         and ('#include "%s"' % base).encode() in after[q]]
            for u in [p] + includers:
                if u not in units:
                    units.append(u)
        verdict_of = {}
        for u in units:
            rel = os.path.relpath(u, root)
            verdicts = []
            for py, tag in ((a.python_ft, "ft"), (a.python_gil, "gil")):
                ok_before, why_before = compiles(py, os.path.join(pristine, rel), os.path.join(pristine, "_b_" + tag), pristine, PROJECT_FLAGS.get(name_of(spec), []))
                ok_after, why = compiles(py, u, os.path.join(root, "_a_" + tag), root, PROJECT_FLAGS.get(name_of(spec), []))
                verdicts.append((ok_before, ok_after, why or why_before))
            verdict_of[u] = verdicts
        for p in changed:
            if not p.endswith((".c", ".cpp", ".cc", ".cxx")):
                continue
            base = os.path.basename(p)
            mine = [p] + [u for u in units if u != p and ('#include "%s"' % base).encode() in after[u]]
            vs = [verdict_of[u] for u in mine]
            if any(all(b and f for b, f, _ in v) for v in vs):
                results.append((p, "compiles for both builds" + ("" if all(b and f for b, f, _ in vs[0]) else " (as part of " + os.path.basename(mine[1]) + ")")))
                totals["compiled_both"] += 1
            elif any(b and not f for v in vs for b, f, _ in v):
                results.append((p, "BROKE: " + " | ".join(w for v in vs for _, _, w in v)))
                totals["broke"] += 1
                bad = True
            else:
                results.append((p, "not compilable standalone (before the fix either): " + vs[0][0][2][:200]))
                totals["not_standalone"] += 1
        shutil.rmtree(pristine, ignore_errors=True)
        bad |= not idempotent
        totals["findings"] += len(diags)
        totals["with_fix"] += len(with_fix)
        totals["safe"] += safe
        totals["unsafe"] += len(with_fix) - safe
        totals["files_fixed"] += len(changed)
        print(json.dumps({
            "project": spec, "findings": len(diags), "with_fix": len(with_fix), "safe": safe,
            "by_code": by_code, "files_changed": len(changed), "second_fix_changes_nothing": idempotent,
            "files": [(os.path.relpath(p, root), v) for p, v in results],
        }))
    print(json.dumps({"total": totals}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
