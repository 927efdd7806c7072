# What it shows: a __del__ that stores self somewhere (here, appends it to a list) resurrects the
# object: it is not freed, and its weakrefs are not cleared, because __del__ runs before
# PyObject_ClearWeakRefs. When it dies again, __del__ does not run a second time (PEP 442), and
# only then is its weakref's callback called.
# CPython: PyObject_CallFinalizerFromDealloc and the FINALIZED flag (Objects/object.c);
# subtype_dealloc (Objects/typeobject.c).
import weakref

graveyard = []


class Phoenix:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)
        graveyard.append(self)


def gone(ref):
    print("  callback: the phoenix is gone for good")


p = Phoenix("phoenix")
r = weakref.ref(p, gone)
print("del p")
del p
print("resurrected:", len(graveyard), r() is graveyard[0])
print("graveyard.clear()")
graveyard.clear()
print("r() is None:", r() is None)
