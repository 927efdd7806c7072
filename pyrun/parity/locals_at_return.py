# What it shows: a function's locals are released when it returns, in the order CPython's
# compiler numbered them: the parameters first, then the other locals in the order the body
# first stores them. The returned object lives on with the caller.
# CPython: _PyFrame_Clear decrefs frame->localsplus[0..] in order (Python/frame.c); the order
# is co_varnames (Python/compile.c).
class C:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("  __del__", self.name)


def work(p, q):
    late = C("late")
    early = C("early")
    kept = C("kept")
    early = C("early, rebound")
    print("  returning")
    return kept


print("call")
result = work(C("p"), C("q"))
print("returned", result.name)
del result
print("end")
