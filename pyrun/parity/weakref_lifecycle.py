# What it shows: a weakref follows its referent without keeping it alive. Without a callback
# weakref.ref(o) is shared (asked twice, the same object). A callback gets the weakref itself,
# already dead. A weakref that dies before its referent never calls its callback. Callbacks of
# several weakrefs run newest first.
# CPython: weakref___new__ reuses the basic ref; PyObject_ClearWeakRefs clears every weakref, then
# calls the callbacks in list order (Objects/weakrefobject.c).
import weakref


class C:
    def __init__(self, name):
        self.name = name


seen = []


def callback(ref):
    seen.append(ref)
    print("  callback: ref() is None:", ref() is None)


o = C("o")
plain = weakref.ref(o)
print("weakref.ref(o) is plain:", weakref.ref(o) is plain)
print("plain() is o:", plain() is o)
first = weakref.ref(o, callback)
second = weakref.ref(o, callback)
third = weakref.ref(o, callback)
del second
print("del o")
del o
print("callbacks got their own weakrefs:", seen[0] is third, seen[1] is first)
print("plain() is None:", plain() is None)
