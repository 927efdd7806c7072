//! Workload A's global-allocator cases on mimalloc.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    gclabs_bench::global::main();
}
