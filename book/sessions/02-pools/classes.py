# The 32 size classes of pymalloc on 64-bit CPython 3.11 (ALIGNMENT 16, POOL_SIZE 16 KiB,
# POOL_OVERHEAD 48), printed as a Markdown table.
POOL, HEADER, ALIGN = 16 * 1024, 48, 16
print("| Class | Requests (bytes) | Block size | Blocks per pool | Left over at the pool's end |")
print("|------:|-----------------:|-----------:|----------------:|----------------------------:|")
for c in range(512 // ALIGN):
    size = (c + 1) * ALIGN
    blocks, left = divmod(POOL - HEADER, size)
    print(f"| {c} | {size - ALIGN + 1}–{size} | {size} | {blocks} | {left} |")
