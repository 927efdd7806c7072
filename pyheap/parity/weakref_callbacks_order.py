# What it shows: three weakrefs with callbacks to one object, made r1, r2, r3, plus a basic
# weakref without a callback (shared: asking twice gives the same object). When the object
# dies the callbacks run newest first: r3, r2, r1.
# CPython: weakref___new__ inserts each ref with a callback right after the basic ref
# (insert_head / insert_after in Objects/weakrefobject.c); PyObject_ClearWeakRefs clears them
# all, then calls the callbacks in list order.
# pyheap: Heap::new_weakref and clear_weakrefs (weakrefs.rs).
import gc
import weakref

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


def make_callback(name):
    def callback(ref):
        print("callback", name)

    return callback


o = C("o")
r1 = weakref.ref(o, make_callback("r1"))
r2 = weakref.ref(o, make_callback("r2"))
basic = weakref.ref(o)
r3 = weakref.ref(o, make_callback("r3"))
print("weakref.ref(o) is basic:", weakref.ref(o) is basic)
print("before del o")
del o
print("after del o")
print("all dead:", r1() is None and r2() is None and r3() is None and basic() is None)
