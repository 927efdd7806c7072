# The chapter's opening: CPython counts the references to an object as names, calls and list slots
# take and give them up. sys.getrefcount(x) is one more than the count (its own argument).
import sys

x = object()
print("x = object()         getrefcount(x) =", sys.getrefcount(x))
y = x
print("y = x                getrefcount(x) =", sys.getrefcount(x))


def show(arg):
    return sys.getrefcount(arg)


print("show(x)              getrefcount(arg) =", show(x), "(inside the call)")
print("after show(x)        getrefcount(x) =", sys.getrefcount(x))
items = [x, x, x]
print("items = [x, x, x]    getrefcount(x) =", sys.getrefcount(x))
items.append(x)
print("items.append(x)      getrefcount(x) =", sys.getrefcount(x))
del items
print("del items            getrefcount(x) =", sys.getrefcount(x))
del y
print("del y                getrefcount(x) =", sys.getrefcount(x))
