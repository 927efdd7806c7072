//! Workload A's global-allocator cases on the C library's allocator (glibc's `malloc`).

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() {
    gclabs_bench::global::main();
}
