//! What tree-sitter holds on this thread, for the parse budget's memory bound.
//! tree-sitter allocates through hooks it lets us set; ours call the C allocator as
//! before and count the usable size of each block on the allocating (or freeing)
//! thread. A parse runs on one thread and frees little of what other threads
//! allocated, so the change of this thread's count over a parse is what it took.
//!
//! Only on Linux (`malloc_usable_size`); elsewhere nothing is counted and the
//! operation and time bounds stand alone.

// tree-sitter's allocator hooks are `extern "C"` functions over raw pointers.
#![allow(unsafe_code)]

use std::cell::Cell;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

/// Bytes tree-sitter allocated minus bytes it freed on this thread.
pub fn live() -> i64 {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// Installs the counting hooks, once, before any parser exists (call it before
/// creating a parser).
pub fn install() {
    #[cfg(target_os = "linux")]
    linux::install();
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::c_void;
    use std::sync::Once;

    use super::LIVE;

    fn add(n: i64) {
        // `try_with`: the hooks may run while a thread's locals are torn down.
        let _ = LIVE.try_with(|l| l.set(l.get() + n));
    }

    fn usable(p: *mut c_void) -> i64 {
        if p.is_null() {
            return 0;
        }
        // SAFETY: `p` is a live block from the C allocator.
        i64::try_from(unsafe { libc::malloc_usable_size(p) }).unwrap_or(0)
    }

    unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        // SAFETY: plain C allocation.
        let p = unsafe { libc::malloc(size) };
        add(usable(p));
        p
    }

    unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
        // SAFETY: plain C allocation.
        let p = unsafe { libc::calloc(n, size) };
        add(usable(p));
        p
    }

    unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
        let before = usable(p);
        // SAFETY: `p` is null or a live block from the C allocator (tree-sitter's
        // blocks all come from it, before and after the hooks are installed).
        let q = unsafe { libc::realloc(p, size) };
        if !q.is_null() {
            add(usable(q) - before);
        }
        q
    }

    unsafe extern "C" fn free(p: *mut c_void) {
        add(-usable(p));
        // SAFETY: as in `realloc`.
        unsafe { libc::free(p) }
    }

    pub fn install() {
        static ONCE: Once = Once::new();
        // SAFETY: the hooks use the same C allocator as tree-sitter's defaults, so
        // blocks allocated before they are installed are freed correctly after; and
        // every parser is created after this returns (no tree-sitter call races it).
        ONCE.call_once(|| unsafe {
            tree_sitter::set_allocator(Some(malloc), Some(calloc), Some(realloc), Some(free));
        });
    }
}
