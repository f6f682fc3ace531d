"""Behaviour of tests/fix_corpus/registry.c, run before and after `--fix`.

The refcount check (`refcounts_stay`) compares `sys.getrefcount` of a mortal
value before and after 1000 rounds of calls: exact, and available in release
builds (the provisioned interpreters are not debug builds, so
`sys.gettotalrefcount` is not available).

Usage: python behaviour.py [LOOPS]. With LOOPS > 1 it also runs the calls in a
loop and fails if traced memory (tracemalloc) or the resident set grows by more
than a small bound: a leaked reference per call would show as steady growth.
"""
import gc
import sys
import tracemalloc
import weakref

import registry as r


def once():
    n = r.lookups()
    assert r.lookup("one") == 1
    assert r.lookups() == n + 1
    assert r.lookup("missing") is None
    try:
        r.lookup([])  # unhashable key: the lookup error propagates
    except TypeError:
        pass
    else:
        raise AssertionError("lookup([]) should raise TypeError")
    assert r.doubled("answer") == 42
    assert r.doubled("missing") == -1
    assert r.describe("one") == "one=1", r.describe("one")
    try:
        r.describe("missing")
    except KeyError:
        pass
    else:
        raise AssertionError("describe(missing) should raise KeyError")
    assert r.first_repr(["x", 2]) == "'x'"
    try:
        r.first_repr([])
    except IndexError:
        pass
    else:
        raise AssertionError("first_repr([]) should raise IndexError")
    assert r.sum_list([1, 2, "a", 3]) == 6

    class Thing:
        pass

    t = Thing()
    ref = weakref.ref(t)
    assert r.deref(ref) is t
    del t
    gc.collect()
    assert r.deref(ref) is None
    assert r.default("k") == 0
    assert r.default("k") == 0
    assert r.main_has("__name__") is True
    assert r.main_has("no_such_attribute_here") is False
    assert r.total({"a": 1, "b": 2}) == 3
    try:
        r.total({"a": 1, "b": "x"})
    except TypeError:
        pass
    else:
        raise AssertionError("total with a str value should raise TypeError")
    assert r.count({1: 2, 3: 4, 5: 6}) == 3
    assert r.common_prefix({"a": 1, "b": 2, "c": 3}, {"a": 0, "b": 0, "x": 0}) == 2
    assert r.common_prefix({}, {"a": 1}) == 0
    assert r.hexlify(b"\x00\xffab") == "00ff6162"
    assert r.label(7) == "item-7"
    c = r.Counter()
    assert c.last() is None
    assert c.hit("a") == 1
    assert c.hit("b") is True
    assert c.last() == "b"
    try:
        c.hit(None)
    except ValueError:
        pass
    else:
        raise AssertionError("hit(None) should raise ValueError")
    assert c.hit("c") == 3


def refcounts_stay():
    """A reference leaked (or released once too often) per call shows as a
    change of the refcount of a mortal object the calls see."""

    class Value:
        def __repr__(self):
            return "V"

    v = Value()
    r.registry["obj"] = v
    lst = [v, 3]
    ref = weakref.ref(v)
    d = {"a": v}
    before = sys.getrefcount(v)
    for _ in range(1000):
        assert r.lookup("obj") is v
        assert r.describe("obj") == "obj=V"
        assert r.first_repr(lst) == "V"
        r.sum_list(lst)
        assert r.deref(ref) is v
        assert r.count(d) == 1
    after = sys.getrefcount(v)
    del r.registry["obj"]
    assert after == before, f"refcount of a looked-up value went from {before} to {after}"


def counts_across_threads():
    """The lookup counter loses no increments when 4 threads look up at once
    (after the fix it is atomic; before it, on a GIL build, the GIL serialised it)."""
    import threading

    before = r.lookups()

    def work():
        for _ in range(2000):
            r.lookup("one")

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return r.lookups() - before


def rss_kb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    loops = int(args[0]) if args else 1
    once()
    refcounts_stay()
    if loops > 1:
        for _ in range(200):
            once()  # warm up caches and free lists
        gc.collect()
        tracemalloc.start()
        base_traced = tracemalloc.get_traced_memory()[0]
        base_rss = rss_kb()
        for _ in range(loops):
            once()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base_traced
        rss_grown = rss_kb() - base_rss
        # A leaked reference per call (the value objects are small ints and
        # strs shared by the dict, so leaks show as refcount growth, which is
        # not memory; the `Thing` instances and reprs made per call would
        # show): bound growth to far less than one object per loop.
        assert grown < 64 * 1024, f"traced memory grew by {grown} bytes over {loops} loops"
        assert rss_grown < 8 * 1024, f"RSS grew by {rss_grown} kB over {loops} loops"
        print(f"leak check: {loops} loops, traced +{grown} B, RSS +{rss_grown} kB")
    # Threads last: once a free-threaded interpreter has run several threads it
    # frees some memory lazily (delayed until all threads pass a quiescent state),
    # which tracemalloc would count as growth.
    lost = 8000 - counts_across_threads()
    if "--exact-counter" in sys.argv:
        assert lost == 0, f"{lost} increments of the lookup counter were lost"
    if hasattr(sys, "gettotalrefcount"):
        print("debug build: total refcount", sys.gettotalrefcount())
    print("ok")


main()
