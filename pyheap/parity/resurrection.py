# What it shows: a `__del__` that stores `self` in a global resurrects the object: it is
# alive, finalized and tracked afterwards, and its weakrefs were not cleared (the finalizer
# runs before PyObject_ClearWeakRefs). When it dies a second time `__del__` is not called
# again (PEP 442: it runs at most once), and only then is the weakref callback called.
# CPython: subtype_dealloc -> PyObject_CallFinalizerFromDealloc, which returns early when the
# count is above zero after tp_finalize; _PyGC_SET_FINALIZED marks the object.
# pyheap: Heap::call_finalizer_from_dealloc (death.rs), Event::Resurrected.
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)
        global saved
        saved = self


def make_callback(name):
    def callback(ref):
        print("callback", name)

    return callback


x = C("x")
r = weakref.ref(x, make_callback("r"))
print("gc.is_finalized(x):", gc.is_finalized(x))
del x
print("after del x")
print("r() is saved:", r() is saved)
print("gc.is_finalized(saved):", gc.is_finalized(saved))
print("gc.is_tracked(saved):", gc.is_tracked(saved))
del saved
print("after del saved")
print("r() is None:", r() is None)
