# ftaudit verify probe: runs inside the interpreter under test (python -B -c <this> MODE ARGS...).
#
#   info                                   facts about the interpreter, printed as JSON
#   package DIST                           the .so/.pyd files of an installed distribution, as JSON
#   import EVENTS MODULE FILE SYS_PATH
#       imports MODULE (from FILE when not empty, with SYS_PATH first on sys.path when not
#       empty) and appends one JSON object per line to EVENTS as it
#       goes, so that ftaudit can still tell where the process was when it crashed or hung.
#       Before the import it loads only `warnings` and `faulthandler`, so that the module under
#       test is not imported by the probe itself:
#         {"event": "start", "name", "origin", "origin_hex", "stack"}   a module starts loading
#         {"event": "end", "name", "gil"}                 it finished (gil: GIL state, outermost only)
#         {"event": "warning", "category", "message", "stack"}
#         {"event": "result", "status": "ok", "gil", "origin", "origin_hex"}
#         {"event": "result", "status": "raised", "gil", "exc_type", "exc_message",
#          "traceback", "module", "stack"}   (module: where the exception left an import first)
#       Warnings after the first 100 are dropped (except CPython's GIL warning), and long
#       messages are cut, so a module cannot fill the disk through the probe.
# Output is JSON that any parser accepts: text that cannot be encoded (lone surrogates from
# undecodable bytes) is written with backslash escapes, and a path that is not valid text
# also comes as the hex of its bytes (`*_hex`), so ftaudit gets the exact path back.
# This file must run on every free-threaded CPython ftaudit supports (3.13 and later).
import sys

_GIL_WARNING = "has been enabled to load module '"
_MAX_WARNINGS = 100
_MAX_MESSAGE = 8000


def _gil_enabled():
    f = getattr(sys, "_is_gil_enabled", None)
    return bool(f()) if f is not None else None


def _path_hex(path):
    """The bytes of a path that is not valid text, as hex; None for any other path."""
    if not isinstance(path, str):
        return None
    try:
        path.encode("utf-8")
        return None
    except UnicodeEncodeError:
        import os  # loaded at start-up already

        return os.fsencode(path).hex()


def info():
    gil_at_start = _gil_enabled()
    import importlib.machinery
    import sysconfig

    print(_dumps({
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "gil_disabled_build": sysconfig.get_config_var("Py_GIL_DISABLED"),
        "gil_enabled_at_start": gil_at_start,
        "xoption_gil": sys._xoptions.get("gil"),
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "soabi": sysconfig.get_config_var("SOABI"),
    }))


def package(name):
    from importlib import metadata

    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print(_dumps({"error": "no distribution named %r is installed for %s" % (name, sys.executable)}))
        return
    files = []
    for f in dist.files or []:
        s = str(f)
        if s.endswith((".so", ".pyd")):
            path = str(dist.locate_file(f))
            files.append({"relative": s.replace("\\", "/"), "path": path, "path_hex": _path_hex(path)})
    print(_dumps({"files": files}))


def _dumps(obj):
    """A small JSON encoder, so that the import probe does not import `json` itself."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_dumps(x) for x in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(_dumps(str(k)) + ": " + _dumps(v) for k, v in obj.items()) + "}"
    # Lone surrogates (undecodable bytes in a message or path) would make invalid JSON:
    # they become the text `\udcff`.
    text = str(obj).encode("utf-8", "backslashreplace").decode("utf-8")
    out = ['"']
    for ch in text:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class _Events:
    """Appends one JSON object per line to the events file, unbuffered."""

    def __init__(self, path):
        import os

        self.os = os
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, **obj):
        try:
            self.os.write(self.fd, (_dumps(obj) + "\n").encode("utf-8", "replace"))
        except Exception:
            pass


def run_import(events_path, name, file, sys_path):
    import faulthandler
    import warnings

    # Fatal signals print every thread's Python stack; ftaudit sends SIGABRT at its time
    # limit, so a hang in Python code shows where it waits.
    faulthandler.enable(file=sys.stderr, all_threads=True)
    events = _Events(events_path)
    bootstrap = sys.modules["_frozen_importlib"]
    stack = []  # names of the modules being loaded, outermost first
    raised_in = {}  # id(exception) -> (exception, module whose load it left first, stack then)

    # Every module goes through importlib._bootstrap._load_unlocked (imports by name, from C
    # with PyImport_ImportModule, and _load for a file location). Wrapping it records the
    # import tree, so a module imported as a side effect is named with its importers.
    original = getattr(bootstrap, "_load_unlocked", None)

    def load_unlocked(spec):
        origin = getattr(spec, "origin", None)
        events.write(event="start", name=spec.name, origin=origin, origin_hex=_path_hex(origin), stack=list(stack))
        stack.append(spec.name)
        try:
            return original(spec)
        except BaseException as e:
            raised_in.setdefault(id(e), (e, spec.name, list(stack[:-1])))
            raise
        finally:
            stack.pop()
            # While an extension's init function runs the GIL is enabled transiently, so
            # the state is only meaningful once the outermost import has finished.
            events.write(event="end", name=spec.name, gil=_gil_enabled() if not stack else None)

    warnings_seen = [0]

    def showwarning(message, category, filename, lineno, file=None, line=None):
        text = str(message)
        warnings_seen[0] += 1
        if warnings_seen[0] > _MAX_WARNINGS and _GIL_WARNING not in text:
            return
        events.write(event="warning", category=getattr(category, "__name__", str(category)),
                     message=text[:_MAX_MESSAGE], stack=list(stack))

    warnings.simplefilter("always")
    warnings.showwarning = showwarning
    if sys_path:
        sys.path.insert(0, sys_path)
    if original is not None:
        bootstrap._load_unlocked = load_unlocked
    try:
        if file:
            spec = sys.modules["_frozen_importlib_external"].spec_from_file_location(name, file)
            if spec is None:
                raise ImportError("cannot make an import spec for %r" % file)
            module = bootstrap._load(spec)
        else:
            module = bootstrap._gcd_import(name)
    except BaseException as e:  # SystemExit and KeyboardInterrupt at import are verdicts too
        if original is not None:
            bootstrap._load_unlocked = original
        import traceback

        _, where, where_stack = raised_in.get(id(e), (e, None, []))
        text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        events.write(event="result", status="raised", gil=_gil_enabled(), exc_type=type(e).__qualname__,
                     exc_message=str(e)[:_MAX_MESSAGE], traceback=text[-4000:],
                     module=where, stack=where_stack)
        return
    if original is not None:
        bootstrap._load_unlocked = original
    origin = getattr(module, "__file__", None)
    events.write(event="result", status="ok", gil=_gil_enabled(), origin=origin, origin_hex=_path_hex(origin))


def main():
    # The probe imports nothing from the current folder.
    if sys.path and sys.path[0] in ("", "."):
        del sys.path[0]
    args = sys.argv[1:]
    mode = args[0] if args else None
    if mode == "info":
        info()
    elif mode == "package" and len(args) == 2:
        package(args[1])
    elif mode == "import" and len(args) == 5:
        run_import(args[1], args[2], args[3] or None, args[4] or None)
    else:
        sys.stderr.write("ftaudit probe: bad arguments %r\n" % (args,))
        sys.exit(2)


main()
