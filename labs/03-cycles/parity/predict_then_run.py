# What it shows: five small puzzles for the chapter's "Predict, then run" questions
# (book/src/03-cycles/questions.md). No test runs it: the book includes it and its output,
# recorded from CPython 3.11.7 like the other scripts, so that `cargo xtask parity --check`
# keeps the answers honest.
import gc
import weakref

gc.disable()
gc.collect()
gc.freeze()


class D:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("   __del__", self.name)


# 1. A tuple in a cycle
a = []
t = (a,)
a.append(t)
del a, t
print("1.", gc.collect())

# 2. The order of finalizers
x = D("x")
y = D("y")
x.other, y.other = y, x
gc.collect(0)
z = D("z")
z.other, x.extra = x, z
del x, y, z
print("2.", gc.collect())


# 3. A weakref with a callback, to a cycle
class Node:
    pass


kept = []
n = Node()
n.me = n
w = weakref.ref(n, kept.append)
del n, w
print("3.", gc.collect(), len(kept))


# 4. A __del__ that resurrects
class Phoenix:
    def __del__(self):
        print("   __del__")
        global saved
        saved = self


p = Phoenix()
p.me = p
del p
print("4.", gc.collect())
del saved
print("  ", gc.collect())

# 5. A young cycle held by an old list
old = []
gc.collect()
young = []
young.append(young)
old.append(young)
del young
print("5.", gc.collect(0), gc.collect(0), end=" ")
old.clear()
print(gc.collect(0), gc.collect(1))
