# What it shows: with gc.set_debug(gc.DEBUG_SAVEALL) the collector still finds the garbage,
# runs its `__del__` and counts it (2: an instance and a list in a cycle), but appends it to
# gc.garbage instead of freeing it. The saved objects are alive (gc.garbage holds them), so
# another collection finds nothing. Once gc.garbage is emptied they are garbage again: the
# collector finds them (2) and frees them, and the `__del__` does not run a second time.
# CPython: delete_garbage: "if (gcstate->debug & DEBUG_SAVEALL) PyList_Append(gcstate->garbage,
# op)" instead of tp_clear (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, debug_saveall.
import gc

gc.disable()


class D:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("__del__", self.name)


gc.collect()
gc.freeze()

gc.set_debug(gc.DEBUG_SAVEALL)
d = D("d")
d.box = [d]
del d
n = gc.collect()
print("gc.collect():", n)
print("len(gc.garbage):", len(gc.garbage))
gc.set_debug(0)
n = gc.collect()
print("saved in gc.garbage: gc.collect():", n)
gc.garbage.clear()
n = gc.collect()
print("after gc.garbage.clear(): gc.collect():", n)
