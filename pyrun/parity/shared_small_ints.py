# What it shows: in CPython 3.11 the small ints (-5 to 256), None and the one-character strs made
# at run time are single shared objects whose counts move: `[7] * 10` adds ten references to the
# one 7, and `[None] * 5` five to None. Ints outside the range are made anew by arithmetic, so two
# equal results are two objects. A str constant of the source is the code object's own, even
# when it is one character long. (3.12 made the shared objects immortal: their counts no longer
# move.)
# CPython: the small-int cache (_PyLong_SMALL_INTS, get_small_int in Objects/longobject.c);
# list_repeat increfs each item once per copy (Objects/listobject.c).
import sys

seven = 7
before = sys.getrefcount(seven)
tens = [7] * 10
print("[7] * 10 adds to the count of 7:", sys.getrefcount(seven) - before)
del tens
print("and del gives them back:", sys.getrefcount(seven) - before)
before = sys.getrefcount(None)
nones = [None] * 5
print("[None] * 5 adds to the count of None:", sys.getrefcount(None) - before)
a = 250
b = 6
c = a + b
d = seven + 249
print("a + b is seven + 249 (both 256):", c is d)
big_a = 1000 + a
big_b = 1000 + a
print("1000 + a == 1000 + a:", big_a == big_b, " is:", big_a is big_b)
small_a = a - 244
small_b = b + 0
print("a - 244 is b + 0 (both 6):", small_a is small_b)
letters = "abc"
other = "xa"
first = letters[0]
again = other[1]
print("one-character strs made at run time are shared:", first is again)
constant = "a"
print("but not with the constant 'a' of the source:", first is constant)
