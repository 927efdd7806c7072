# Which objects the collector tracks, and when that changes.
# mode: repl
import gc
gc.is_tracked(42), gc.is_tracked("text"), gc.is_tracked(None), gc.is_tracked(1.5)
gc.is_tracked(())
gc.is_tracked((1, 2))
t = tuple([1, 2])
gc.is_tracked(t)
gc.collect(0)
gc.is_tracked(t)
u = tuple([1, []])
gc.collect()
gc.is_tracked(u)
gc.is_tracked(frozenset([1, 2])), gc.is_tracked(b"bytes")
d = {}
gc.is_tracked(d)
d["a"] = 1
gc.is_tracked(d)
d["b"] = []
gc.is_tracked(d)
del d["b"]
gc.collect(0)
gc.is_tracked(d)
gc.collect()
gc.is_tracked(d)
class C:
    pass

c = C()
gc.is_tracked(c)
gc.is_tracked(c.__dict__)
c.x = 1
gc.is_tracked(c.__dict__)
gc.is_tracked(C), gc.is_tracked(len), gc.is_tracked(gc)
c.y = []
gc.is_tracked(c.__dict__)
