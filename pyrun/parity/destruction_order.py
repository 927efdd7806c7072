# What it shows: the order in which one `del` destroys nested containers. A list releases its
# items from the last to the first, a tuple too; a dict releases its entries in order; an
# instance its attributes in the order they were set. Each object's own contents die before the
# next sibling is released.
# CPython: list_dealloc and tupledealloc go backwards; dict_dealloc -> free_keys_object in entry
# order; subtype_dealloc -> subtype_clear... the managed values in order (Objects/*.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


outer = [C("a"), (C("b1"), C("b2")), C("c")]
print("del outer")
del outer
d = {"x": C("x"), "y": [C("y1"), C("y2")], "z": C("z")}
print("del d")
del d
o = C("o")
o.first = C("first")
o.second = C("second")
o.first.inner = C("inner")
print("del o")
del o
print("end")
