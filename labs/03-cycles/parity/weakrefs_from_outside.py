# What it shows: weakrefs that live outside a garbage cycle. The collector clears every
# weakref to the garbage before freeing anything: `plain` (no callback) returns None
# afterwards. `once` has a callback, and the weakref is reachable, so the callback runs
# during gc.collect(); it deletes the only name bound to its weakref, which is then freed,
# and the collector counts that weakref too: 2 instances + 1 weakref = 3.
# CPython: handle_weakrefs (Modules/gcmodule.c): _PyWeakref_ClearRef on every weakref to an
# unreachable object; callbacks of reachable weakrefs run after all are cleared, and
# "++num_freed" for a weakref that died when the collector let go of it.
# Rust test: labs/03-cycles/tests/parity.rs, weakrefs_from_outside.
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


# weakref -> the name the callback prints; ids are ints and names strs, so this dict is
# never tracked and never part of a collection.
names = {}


def forget(wr):
    # A module-level function: a closure made per weakref would be a tracked object that
    # dies with the weakref and would be counted too.
    print("callback", names[id(wr)])
    global once
    del once


gc.collect()
gc.freeze()

a = C("a")
b = C("b")
a.partner = b
b.partner = a
plain = weakref.ref(a)
once = weakref.ref(b, forget)
names[id(once)] = "once"
print("plain() is a:", plain() is a)
del a, b
n = gc.collect()
print("gc.collect():", n)
print("plain() is None:", plain() is None)
print("'once' in globals():", "once" in globals())
