# What it shows: `del x` on the last reference runs `__del__` at once, then the weakref
# callback, and only then does the statement after `del x` run. The weakref is dead by then.
# CPython: Py_DECREF -> subtype_dealloc, which calls PyObject_CallFinalizerFromDealloc
# (tp_finalize, i.e. __del__) before PyObject_ClearWeakRefs (the callbacks).
# pyheap: Heap::decref -> die (death.rs), then clear_weakrefs (weakrefs.rs).
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)


def make_callback(name):
    def callback(ref):
        print("callback", name)

    return callback


x = C("x")
r = weakref.ref(x, make_callback("r"))
print("before del x")
del x
print("after del x")
print("r() is None:", r() is None)
