# The heap of the algorithm page, and what a collection of generation 0 does with it.
import gc
gc.disable()
c = []            # C
a = []            # A
b = [a, c]        # B refers to A and C
a.append(b)       # A refers to B
d = []            # D
e = [d]           # E refers to D
d.append(e)       # D refers to E
f = []            # F
e.append(f)       # E refers to F
g = []            # G
g.append(g)       # G refers to itself
del b, c, d, e, f, g
names = {id(a): "A", id(a[0]): "B", id(a[0][1]): "C"}
def order(generation):
    return [names[id(o)] for o in gc.get_objects(generation) if id(o) in names]
print("generation 0, oldest first:", order(0))
print("gc.collect(0) =", gc.collect(0))
print("generation 1, oldest first:", order(1))
