# What it shows: a weakref that dies before its referent is unlinked from the referent's list,
# and its callback is never called; the referent's death later finds no callback to call.
# CPython: weakref_dealloc -> clear_weakref (Objects/weakrefobject.c) unlinks it and drops the
# callback; PyObject_ClearWeakRefs then sees an empty list.
# pyheap: Heap::unlink_weakref (weakrefs.rs), called from die (death.rs) for a weakref.
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
kept = weakref.ref(x, make_callback("kept"))
del r
print("after del r")
del x
print("after del x")
