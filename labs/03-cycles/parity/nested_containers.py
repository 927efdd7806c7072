# What it shows: a cycle that runs through containers of every kind: an instance holds a
# list, the list holds a dict and a tuple, the dict and the tuple lead back to the instance.
# Each tracked container on the way counts once: the instance, the list, the dict and the
# tuple, 4. The dict of strs in the list is untracked and not counted; the strs neither.
# CPython: each type's tp_traverse (subtype_traverse, list_traverse, dict_traverse,
# tupletraverse) feeds subtract_refs and move_unreachable (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, nested_containers.
import gc

gc.disable()


class C:
    def __init__(self, name):
        self.name = name


gc.collect()
gc.freeze()

o = C("o")
d = {}
d["owner"] = o
d["label"] = "a dict"
o.items = [d, tuple([d]), {"colour": "red"}]
del d
print("gc.is_tracked(o.items[0]):", gc.is_tracked(o.items[0]))
print("gc.is_tracked(o.items[1]):", gc.is_tracked(o.items[1]))
print("gc.is_tracked(o.items[2]):", gc.is_tracked(o.items[2]))
del o
n = gc.collect()
print("gc.collect():", n)
