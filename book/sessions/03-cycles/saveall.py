# gc.DEBUG_SAVEALL: the garbage is kept in gc.garbage instead of being freed.
# mode: repl
import gc
class Node:
    def __del__(self):
        print("__del__ of", self.name)

gc.set_debug(gc.DEBUG_SAVEALL)
a = Node()
b = Node()
a.name, b.name = "a", "b"
a.other, b.other = b, a
del a, b
gc.collect()
[type(n).__name__ for n in gc.garbage]
[n.name for n in gc.garbage]
gc.set_debug(0)
gc.garbage.clear()
gc.collect()
