# What CPython says at exit when gc.garbage still holds objects: a ResourceWarning, shown only
# when warnings are switched on (-W default), and not at all while DEBUG_SAVEALL is still set.
# Each case runs in a child process, whose stderr is printed here.
import subprocess
import sys
import textwrap

SAVE_A_CYCLE = """
import gc
class Node:
    pass
gc.set_debug(gc.DEBUG_SAVEALL)
a = Node()
a.me = a
del a
gc.collect()
"""

cases = [
    ("DEBUG_SAVEALL cleared before exit, -W default", ["-W", "default"], "gc.set_debug(0)"),
    ("DEBUG_SAVEALL cleared before exit, warnings off", [], "gc.set_debug(0)"),
    ("DEBUG_SAVEALL still set at exit, -W default", ["-W", "default"], ""),
]
for title, options, last_line in cases:
    child = subprocess.run(
        [sys.executable, *options, "-c", SAVE_A_CYCLE + last_line],
        capture_output=True,
        text=True,
    )
    print(f"{title}:")
    # Wrapped to fit the book's column; the message is one line.
    print(textwrap.indent(textwrap.fill(child.stderr.strip() or "(nothing)", 92), "    "))
