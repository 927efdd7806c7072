# An object resurrected by its __del__ during a collection has lost its weakrefs.
# mode: repl
import gc, weakref
saved = []
class Phoenix:
    def __del__(self):
        saved.append(self)

p = Phoenix()
p.me = p
probe = weakref.ref(p)
del p
gc.collect()
len(saved), probe()
