//! The pure parsers of `backfill` (`src/lucene/` and the snapshot metadata decoders of `src/snapshot/`),
//! compiled on their own from the same source files. Fuzz builds instrument every crate they compile; going
//! through the `backfill` package would instrument the AWS SDK and the rest of the CLI too (a build of tens
//! of minutes), while these modules need only the format crates. The library is named `backfill`, so the
//! targets read exactly as they would against the main crate: `backfill::lucene::fuzzing::segments_n`.
#![allow(dead_code, unused_imports)]

#[path = "../../src/lucene/mod.rs"]
pub mod lucene;

#[path = "../../src/snapshot"]
pub mod snapshot {
    //! `dat.rs`, `smile.rs`, `repository_data.rs` and `fuzzing.rs` of `src/snapshot/` (the rest of that
    //! module is I/O: blob sources, S3).
    pub mod dat;
    pub mod fuzzing;
    pub mod repository_data;
    pub mod smile;
}

/// Without a sanitizer libFuzzer sees memory only as RSS, so a huge allocation that is never touched (a
/// `Vec::with_capacity` from a corrupt count) would pass unnoticed. Any single allocation above this is a bug
/// here (inputs are at most 64 KiB; the largest legitimate output is DEFLATE's 1032:1 of that): abort, which
/// libFuzzer reports as a crash and saves.
const MAX_ALLOCATION: usize = 256 << 20;

struct CappedAllocator;

fn check_size(size: usize) {
    if size > MAX_ALLOCATION {
        eprintln!("allocation of {size} bytes (more than {MAX_ALLOCATION}) from one fuzz input");
        std::process::abort();
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator after a size check.
unsafe impl std::alloc::GlobalAlloc for CappedAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_size(layout.size());
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_size(layout.size());
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        check_size(new_size);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CappedAllocator = CappedAllocator;
