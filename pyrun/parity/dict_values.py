# What it shows: storing into a dict key that exists stores the new value, then lets the old one
# go; `d.pop(k)` hands the value to the caller, so it dies only when the caller drops it; `del
# d[k]` releases the key, then the value; `d.clear()` releases every entry in order.
# CPython: insertdict (Py_XDECREF(old_value) after the store), dict_pop, delitem_common,
# PyDict_Clear (Objects/dictobject.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


d = {}
d["a"] = C("first a")
print("d['a'] = C('second a')")
d["a"] = C("second a")
d["b"] = C("b")
d["c"] = C("c")
d["e"] = C("e")
print("d.pop('b')")
popped = d.pop("b")
print("popped", popped.name)
del popped
print("del d['c']")
del d["c"]
print("d.clear()")
d.clear()
print("end")
