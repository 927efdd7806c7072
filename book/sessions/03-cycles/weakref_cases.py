# Weak references to garbage: three cases.
# mode: repl
import gc, weakref
class Node:
    pass

def report(ref):
    print("callback, ref() is", ref())

a = Node()
b = Node()
a.other, b.other = b, a
watcher = weakref.ref(a, report)
del a, b
gc.collect()
watcher() is None
c = Node()
d = Node()
c.other, d.other = d, c
c.spy = weakref.ref(d, report)
del c, d
gc.collect()
def forget(ref):
    global wr
    print("callback forgets wr")
    del wr

e = Node()
f = Node()
e.other, f.other = f, e
wr = weakref.ref(e, forget)
del e, f
gc.collect()
