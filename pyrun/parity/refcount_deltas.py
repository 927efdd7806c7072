# What it shows: which statements move an object's reference count, measured as deltas of
# sys.getrefcount (the absolute numbers depend on the interpreter; the deltas do not). A name, a
# list slot, a tuple item, a dict value and an attribute each hold one reference; a function's
# parameter holds one while the call runs; `del` and rebinding give them back.
# CPython: Py_INCREF/Py_DECREF in STORE_NAME, LIST_APPEND, BUILD_TUPLE, STORE_SUBSCR, STORE_ATTR
# (Python/ceval.c); sys.getrefcount counts its own argument too.
import sys


class Box:
    pass


x = Box()
base = sys.getrefcount(x)
print("a name:", sys.getrefcount(x) - base)
y = x
print("a second name:", sys.getrefcount(x) - base)
items = [x, x, x]
print("three list slots:", sys.getrefcount(x) - base)
pair = (x, 1)
print("a tuple item:", sys.getrefcount(x) - base)
d = {}
d["k"] = x
print("a dict value:", sys.getrefcount(x) - base)
holder = Box()
holder.item = x
print("an attribute:", sys.getrefcount(x) - base)


def inside(arg):
    return sys.getrefcount(arg) - base


print("inside a call (the parameter):", inside(x))
del y
print("del y:", sys.getrefcount(x) - base)
items.pop()
print("items.pop():", sys.getrefcount(x) - base)
d["k"] = None
print("d['k'] = None:", sys.getrefcount(x) - base)
del holder.item
print("del holder.item:", sys.getrefcount(x) - base)
items = []
print("items = []:", sys.getrefcount(x) - base)
del pair
print("del pair:", sys.getrefcount(x) - base)
