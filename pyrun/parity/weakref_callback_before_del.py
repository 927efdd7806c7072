# What it shows: the order of what the collector does to a garbage cycle: first the weakrefs to
# it are cleared and their callbacks called (a weakref that is itself reachable), then every
# __del__ runs, then the cycle is freed. Reference counting does it the other way round: __del__
# first, then the callbacks.
# CPython: gc_collect_main calls handle_weakrefs before finalize_garbage (Modules/gcmodule.c);
# subtype_dealloc calls the finalizer before PyObject_ClearWeakRefs (Objects/typeobject.c).
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def callback(ref):
    print("  callback")


gc.collect()
gc.freeze()

print("reference counting:")
x = C("x")
rx = weakref.ref(x, callback)
del x
print("the collector:")
y = C("y")
y.me = y
ry = weakref.ref(y, callback)
del y
print("gc.collect():", gc.collect())
