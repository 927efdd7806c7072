//! Workload A's global-allocator cases on lab 02's pymalloc (`PyMallocGlobal`).

#[global_allocator]
static GLOBAL: gclabs_bench::lab02_impl::pymalloc::PyMallocGlobal =
    gclabs_bench::lab02_impl::pymalloc::PyMallocGlobal::new();

fn main() {
    gclabs_bench::global::main();
}
