# What it shows: `x = value` stores the new value first and only then lets go of the old one, so
# the new object is made (its __init__ runs) before the old one dies; in a loop that rebinds a
# name, each object dies when the next one takes its place, and the last when the name goes.
# CPython: STORE_NAME / STORE_FAST (Py_XDECREF of the old value after the store).
class C:
    def __init__(self, name):
        self.name = name
        print("  __init__", name)

    def __del__(self):
        print("  __del__", self.name)


x = C("old")
x = C("new")
print("in a loop:")
for i in range(3):
    item = C("item " + str(i))
print("after the loop")
del item
print("end")
del x
