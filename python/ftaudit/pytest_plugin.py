"""pytest plugin: fail the session when an import re-enables the GIL.

On a free-threaded interpreter (3.13t and later) that started with the GIL disabled,
importing an extension module that has not declared `Py_mod_gil = Py_MOD_GIL_NOT_USED`
turns the GIL back on for the rest of the process. CPython says so once, with a
RuntimeWarning that is easy to miss among collection output, and the tests go on to pass
while testing nothing about free threading. This plugin names the module and fails the
session instead.

How the module is found, as `ftaudit verify` does: `_imp.create_dynamic` (which every
extension module import goes through, whatever imported it) is wrapped, so the import
that flipped the GIL from off to on is seen as it happens, with the stack of modules
being imported at that moment (read from importlib's `_load_unlocked` frames). The
module CPython's RuntimeWarning names is preferred when the warning was seen (it is the
innermost culprit when one extension's init function imports another); the warning is
read from `warnings._showwarnmsg` and from pytest's own warning capture.

The check runs right after collection (so `pytest --collect-only` fails too) and at the
end of the session; a failure sets the exit status to 1 and is explained in the
terminal summary. Only the first module matters: once the GIL is on, CPython neither
warns nor changes anything for later modules, so an accepted module
(`--ftaudit-allow-gil`) hides the ones imported after it. `ftaudit verify` imports each
module in its own process and has no such blind spot.

Off with `-p no:ftaudit`, or `ftaudit_check_gil = false` in the pytest configuration. On
interpreters with a GIL, or when the GIL was chosen at start-up (`PYTHON_GIL=1`,
`-X gil=1`; or `=0`, which never re-enables it), the plugin does nothing.
"""

import re
import sys
import sysconfig
import threading

import pytest

_WARNING = re.compile(r"The global interpreter lock \(GIL\) has been enabled to load module '([^']+)'")


def _gil_enabled():
    f = getattr(sys, "_is_gil_enabled", None)
    return True if f is None else bool(f())


def _free_threaded_build():
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _gil_chosen_at_startup():
    """-X gil / PYTHON_GIL: the GIL state was set by the user, not left to imports."""
    flag = getattr(sys.flags, "gil", None)
    return flag in (0, 1)


def _loaded_extensions():
    """Names of the extension modules imported so far (for a GIL already on at start)."""
    import importlib.machinery

    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    names = []
    for name, module in list(sys.modules.items()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        if isinstance(origin, str) and origin.endswith(suffixes):
            names.append(name)
    return sorted(names)


def _import_stack(skip):
    """Modules being imported on this thread, outermost first (from importlib's frames)."""
    names = []
    frame = sys._getframe(skip)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "_load_unlocked" and code.co_filename.startswith("<frozen importlib"):
            spec = frame.f_locals.get("spec")
            name = getattr(spec, "name", None)
            if name:
                names.append(name)
        frame = frame.f_back
    names.reverse()
    return names


class Culprit:
    """The import that re-enabled the GIL."""

    def __init__(self, module, importers, phase, warning=None):
        self.module = module
        self.importers = importers  # outermost first
        self.phase = phase
        self.warning = warning
        self.nested = []  # extensions its init imported, when no warning told them apart

    def describe(self):
        text = "importing `%s` re-enabled the GIL" % self.module
        if self.importers:
            text += " (imported by %s)" % " <- ".join("`%s`" % m for m in reversed(self.importers))
        if self.nested:
            text += " (or one of the extension modules its import loaded: %s)" % ", ".join(
                "`%s`" % m for m in self.nested
            )
        text += " during %s" % self.phase
        if self.warning:
            text += ': "%s"' % self.warning
        return text


class GilWatch:
    """Watches extension imports for the one that turns the GIL back on."""

    def __init__(self, allowed):
        self.allowed = [a for a in allowed if a]
        self.lock = threading.Lock()
        self.local = threading.local()
        self.phase = "start-up (conftest.py files and plugins)"
        self.culprit = None
        self.warnings = {}  # module -> CPython's warning text
        self.enabled_at_start = _gil_enabled()
        self.extensions_at_start = _loaded_extensions() if self.enabled_at_start else []
        self.reported_after_collection = False
        self._imp = None
        self._create_dynamic = None
        self._showwarnmsg = None

    # -- hooks into the interpreter ------------------------------------------------

    def install(self):
        import _imp
        import warnings

        self._imp = _imp
        self._create_dynamic = original = _imp.create_dynamic
        bootstrap = sys.modules.get("_frozen_importlib")
        call = getattr(bootstrap, "_call_with_frames_removed", None) or (lambda f, *a, **k: f(*a, **k))
        watch = self

        def create_dynamic(spec, *args, **kwargs):
            depth = getattr(watch.local, "depth", 0)
            if depth == 0:
                watch.local.created = []
                before = _gil_enabled()
            watch.local.created.append((getattr(spec, "name", "?"), _import_stack(2)))
            watch.local.depth = depth + 1
            try:
                # Called through importlib's own helper, so that CPython's warning points
                # at `<frozen importlib._bootstrap>` as without the plugin, not at this file.
                return call(original, spec, *args, **kwargs)
            finally:
                watch.local.depth = depth
                # While an init function runs the GIL is on transiently, so the state
                # means something only once the outermost extension import is done.
                if depth == 0 and not before and _gil_enabled():
                    watch._flipped(watch.local.created)

        _imp.create_dynamic = create_dynamic

        original_show = getattr(warnings, "_showwarnmsg", None)
        if original_show is not None:
            self._showwarnmsg = original_show

            def showwarnmsg(msg):
                watch.note_warning(str(getattr(msg, "message", "")))
                return original_show(msg)

            warnings._showwarnmsg = showwarnmsg

    def uninstall(self):
        import warnings

        if self._imp is not None and self._create_dynamic is not None:
            self._imp.create_dynamic = self._create_dynamic
            self._imp = None
        if self._showwarnmsg is not None:
            warnings._showwarnmsg = self._showwarnmsg
            self._showwarnmsg = None

    def note_warning(self, text):
        m = _WARNING.search(text)
        if m:
            with self.lock:
                self.warnings.setdefault(m.group(1), text)

    def _flipped(self, created):
        with self.lock:
            if self.culprit is not None:
                return
            names = [name for name, _ in created]
            # CPython's warning names the module whose declaration was missing; when one
            # extension's init imports another, that can be the inner one.
            named = next((n for n in reversed(names) if n in self.warnings), None)
            module = named if named is not None else names[0]
            stack = [m for m in dict(created).get(module, []) if m != module]
            self.culprit = Culprit(module, stack, self.phase, self.warnings.get(module))
            if named is None and len(names) > 1:
                self.culprit.nested = names[1:]

    # -- verdict ---------------------------------------------------------------------

    def is_allowed(self, module):
        return any(module == a or module.startswith(a + ".") for a in self.allowed)

    def problem(self):
        """A message when the session must fail, else None."""
        if self.enabled_at_start:
            if self.extensions_at_start and all(self.is_allowed(m) for m in self.extensions_at_start):
                return None
            loaded = ", ".join("`%s`" % m for m in self.extensions_at_start) or "none"
            return (
                "the GIL was already enabled when the ftaudit plugin loaded: a module imported "
                "at start-up (sitecustomize, a .pth file, an earlier pytest plugin) re-enabled it. "
                "Extension modules loaded by then: %s. Run `ftaudit verify --module NAME` on them "
                "to find which." % loaded
            )
        if not _gil_enabled():
            return None
        culprit = self.culprit
        if culprit is None:
            # Flipped outside an extension import we saw: take the warning if there is one.
            with self.lock:
                named = next(iter(self.warnings), None)
            if named is None:
                return (
                    "the GIL is enabled although the interpreter started with it disabled, "
                    "and no extension import was seen turning it on"
                )
            culprit = Culprit(named, [], "the session", self.warnings[named])
        if self.is_allowed(culprit.module):
            return None
        return culprit.describe()

    def accepted_note(self):
        culprit = self.culprit
        if culprit is None or not self.is_allowed(culprit.module):
            return None
        return (
            "`%s` re-enabled the GIL (accepted by --ftaudit-allow-gil); modules imported after it "
            "were not checked" % culprit.module
        )


_watch = None  # the session's GilWatch while the plugin is active
_PROBLEM = pytest.StashKey[object]()


def pytest_addoption(parser):
    group = parser.getgroup("ftaudit", "free-threading (ftaudit)")
    group.addoption(
        "--ftaudit-allow-gil",
        action="append",
        default=[],
        metavar="MODULE",
        help="accept this module (and its submodules) re-enabling the GIL; comma-separated or repeated",
    )
    parser.addini(
        "ftaudit_check_gil",
        type="bool",
        default=True,
        help="fail the session when an import re-enables the GIL (free-threaded interpreters only)",
    )
    parser.addini(
        "ftaudit_allow_gil",
        type="linelist",
        default=[],
        help="modules accepted when they re-enable the GIL",
    )


def _allowed(config):
    names = []
    for value in list(config.getini("ftaudit_allow_gil")) + list(config.getoption("ftaudit_allow_gil") or []):
        names.extend(part.strip() for part in value.split(","))
    return [n for n in names if n]


def _active(config):
    return _free_threaded_build() and not _gil_chosen_at_startup() and config.getini("ftaudit_check_gil")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # Before conftest.py files are imported, so that their imports are watched too.
    global _watch
    if _watch is None and _active(early_config):
        _watch = GilWatch([])
        _watch.install()


def pytest_configure(config):
    global _watch
    if not _active(config):
        if _watch is not None:
            _watch.uninstall()
            _watch = None
        return
    if _watch is None:
        _watch = GilWatch([])
        _watch.install()
    _watch.allowed = _allowed(config)


def pytest_unconfigure(config):
    global _watch
    if _watch is not None:
        _watch.uninstall()
        _watch = None


def pytest_report_header(config):
    if _watch is not None:
        return "ftaudit: failing the session if an import re-enables the GIL"
    return None


def pytest_collectstart(collector):
    if _watch is not None:
        _watch.phase = "collection of %s" % (collector.nodeid or "the session")


def pytest_runtest_logstart(nodeid, location):
    if _watch is not None:
        _watch.phase = "test %s" % nodeid


def pytest_warning_recorded(warning_message, when, nodeid, location):
    if _watch is not None:
        _watch.note_warning(str(getattr(warning_message, "message", "")))


def pytest_collection_finish(session):
    if _watch is None:
        return
    problem = _watch.problem()
    if problem is None:
        return
    _watch.reported_after_collection = True
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("ftaudit: %s" % problem, red=True, bold=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _watch is None:
        return
    problem = _watch.problem()
    session.config.stash[_PROBLEM] = problem
    if problem is not None and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED



def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _watch is None:
        return
    problem = config.stash.get(_PROBLEM, None)
    if problem is None:
        note = _watch.accepted_note()
        if note:
            terminalreporter.write_line("ftaudit: %s" % note, yellow=True)
        return
    terminalreporter.section("ftaudit: the GIL was re-enabled", sep="=", red=True, bold=True)
    terminalreporter.write_line(problem)
    module = _watch.culprit.module if _watch.culprit is not None else None
    if module is not None:
        terminalreporter.write_line(
            "help: once `%s` is thread-safe, declare `Py_MOD_GIL_NOT_USED` in it (`ftaudit check` on its "
            "sources shows where), or accept it with --ftaudit-allow-gil=%s" % (module, module)
        )
