# What it shows: each call's locals go when that call returns, innermost first; a closure keeps
# the variable it captured alive after the function that made it has returned, in its cell, and
# lets it go when the closure itself goes.
# CPython: _PyFrame_Clear at each return; a captured variable lives in a cell the function's
# closure holds (Python/frame.c, Objects/cellobject.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def inner():
    x = C("inner's")
    print("  inner returns")


def outer():
    y = C("outer's")
    inner()
    print("  outer returns")


def make_getter():
    kept = C("captured")
    temp = C("not captured")

    def get():
        return kept.name

    return get


outer()
print("make_getter()")
getter = make_getter()
print("getter() ->", getter())
print("del getter")
del getter
print("end")
