# Finalizers that bring their objects back to life: a garbage 2-cycle whose __del__ methods
# append them to a live list, and a self-referencing list collected with them.
# mode: repl
import gc
class Phoenix:
    def __del__(self):
        print("__del__ of", self.name)
        saved.append(self)

saved = []
a = Phoenix()
b = Phoenix()
a.name, b.name = "a", "b"
a.other, b.other = b, a
junk = []
junk.append(junk)
del a, b, junk
gc.collect()
[p.name for p in saved]
gc.is_finalized(saved[0]), gc.is_finalized(saved[1])
saved.clear()
gc.collect()
