# What it shows: two weakrefs with callbacks to the same member of a garbage cycle. `outside`
# is bound to a name, so it is reachable: its callback runs during gc.collect(). `a.watch`
# is itself part of the garbage (only `a` holds it): it is cleared and its callback never
# runs, as if it had died first. The weakref in the garbage is a tracked container and is
# counted with the cycle: 2 instances + 1 weakref = 3; `outside` lives on and is not counted.
# CPython: handle_weakrefs (Modules/gcmodule.c) clears every weakref to an unreachable
# object, and moves one with a callback to wrcb_to_call only if the weakref itself is not
# unreachable (the gc_is_collecting test); then it calls those callbacks.
# Rust test: labs/03-cycles/tests/parity.rs, weakref_callback_reachable_vs_garbage.
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


names = {}


def callback(wr):
    print("callback", names[id(wr)])


gc.collect()
gc.freeze()

a = C("a")
b = C("b")
a.partner = b
b.partner = a
outside = weakref.ref(b, callback)
names[id(outside)] = "outside"
a.watch = weakref.ref(b, callback)
names[id(a.watch)] = "a.watch"
print("before gc.collect()")
del a, b
n = gc.collect()
print("gc.collect():", n)
print("outside() is None:", outside() is None)
