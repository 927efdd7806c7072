# What it shows: tricolor marking by hand, on real CPython objects. The example of
# seed_example.py, except that D also refers back to E, so D and E form a cycle that reference
# counting cannot free. The walk starts from the roots (the objects bound to names: A) and
# follows gc.get_referents(), as a tracing collector would: white, gray and black, with a
# worklist. What is still white at the end (D and E) is garbage. gc.collect() then frees exactly
# those, although it never looked at a root: it deduced them from reference counts (lab 03).
# CPython: gc.get_referents calls tp_traverse (subtype_traverse for an instance: its type, then
# its attribute values); gc_collect_main (Modules/gcmodule.c).
# Rust tests: labs/05-tricolor/tests/marking.rs, mark_blackens_what_the_roots_reach and
# cycles_no_root_reaches_are_swept_without_special_help; labs/05-tricolor/tests/incremental.rs,
# steps_of_one_unit_scan_one_object_each_as_the_walk_by_hand_does.
import gc

gc.disable()


class Node:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("freed", self.name)


gc.collect()
gc.freeze()

a = Node("A")
a.next = Node("B")
a.next.next = Node("C")
e = Node("E")
e.next = Node("D")
e.next.next = a.next.next
e.next.back = e
del e

# Every Node alive now, in the order they were made (generation 0 keeps creation order).
nodes = [o for o in gc.get_objects() if isinstance(o, Node)]
print("objects:", " ".join(n.name for n in nodes))
color = {id(n): "white" for n in nodes}
worklist = []


def shade(n):
    if color[id(n)] == "white":
        color[id(n)] = "gray"
        worklist.append(n)


for root in [a]:
    shade(root)
print("roots shaded:", " ".join(n.name for n in worklist))
while worklist:
    n = worklist.pop()
    refs = [r for r in gc.get_referents(n) if isinstance(r, Node)]
    for r in reversed(refs):
        shade(r)
    color[id(n)] = "black"
    print("scan", n.name, "->", " ".join(r.name for r in refs) or "nothing",
          "| worklist:", " ".join(w.name for w in worklist) or "empty")
print("black:", " ".join(n.name for n in nodes if color[id(n)] == "black"))
print("white:", " ".join(n.name for n in nodes if color[id(n)] == "white"))
del nodes, n, r, refs, root
print("gc.collect():", gc.collect())
