#!/usr/bin/env python3
"""Apply `ftaudit check --fix --unsafe-fixes` to real sdists and measure it.

Usage: measure-fixes.py --ftaudit BIN --python-ft PY --python-gil PY --work DIR NAME==VER...

For each sdist (fetched with `pip download --no-binary :all:` into DIR, never
committed), on a copy of its C/C++ sources:
  - the findings of the fixable families (FT001, FT101-FT104, FT201, FT501) and
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

FAMILIES = ("FT001", "FT101", "FT102", "FT103", "FT104", "FT201", "FT501")
HERE = os.path.dirname(os.path.abspath(__file__))
STRICT = ["--cflag=-Werror=implicit-function-declaration", "--cflag=-Werror=incompatible-pointer-types"]


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


def compiles(python, src, out):
    r = subprocess.run([sys.executable, os.path.join(HERE, "compile-extension.py"), "--python", python, "--out", out, *STRICT, src],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1:] 


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
        results = []
        for p in changed:
            if not p.endswith((".c", ".cpp", ".cc", ".cxx")):
                results.append((p, "header changed"))
                continue
            orig = p + ".orig" + os.path.splitext(p)[1]
            with open(orig, "wb") as f:
                f.write(before[p])
            verdicts = []
            for py, tag in ((a.python_ft, "ft"), (a.python_gil, "gil")):
                ok_before, _ = compiles(py, orig, os.path.join(root, "_b_" + tag))
                ok_after, why = compiles(py, p, os.path.join(root, "_a_" + tag))
                verdicts.append((ok_before, ok_after, why))
            os.remove(orig)
            if all(b and f for b, f, _ in verdicts):
                results.append((p, "compiles for both builds"))
                totals["compiled_both"] += 1
            elif any(b and not f for b, f, _ in verdicts):
                results.append((p, "BROKE: " + " | ".join(" ".join(w) for _, _, w in verdicts)))
                totals["broke"] += 1
                bad = True
            else:
                results.append((p, "not compilable standalone (before the fix either)"))
                totals["not_standalone"] += 1
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
