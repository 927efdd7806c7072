# What it shows: a `__del__` that stores `self` in a global, run by the collector. x and y
# form a cycle and z is a separate self-referencing list, all garbage. The collector clears
# the weakref to x, runs x's `__del__`, which resurrects x, and then finds again what is
# unreachable: x and y (which x reaches) live on and are not counted; only z is (1). x is
# finalized, and its weakref stays dead although x lives. After `del saved` the cycle is
# garbage again: the next collection frees it (2) without calling `__del__` a second time.
# CPython: handle_weakrefs runs before finalize_garbage; handle_resurrected_objects runs
# deduce_unreachable again and moves the resurrected objects to the older generation
# (Modules/gcmodule.c, PEP 442).
# Rust test: labs/03-cycles/tests/parity.rs, resurrection_from_cycle.
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


class Phoenix:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)
        global saved
        saved = self


gc.collect()
gc.freeze()

x = Phoenix("x")
y = C("y")
x.friend = y
y.friend = x
z = []
z.append(z)
r = weakref.ref(x)
del x, y, z
n = gc.collect()
print("gc.collect():", n)
print("saved.name, saved.friend.name:", saved.name, saved.friend.name)
print("gc.is_finalized(saved):", gc.is_finalized(saved))
print("r() is None:", r() is None)
del saved
n = gc.collect()
print("after del saved: gc.collect():", n)
