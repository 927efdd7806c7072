# The count of the small int 7 in CPython 3.11: shared by the whole interpreter, and counted. Its
# absolute value depends on what start-up holds, so the session prints differences.
# mode: repl
import sys
before = sys.getrefcount(7)
before >= 999_999_999
sevens = [7] * 1000
sys.getrefcount(7) - before
del sevens
sys.getrefcount(7) - before
