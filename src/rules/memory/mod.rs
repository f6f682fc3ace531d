//! FT5xx — memory-allocation domains.
//!
//! The free-threaded build requires that Python objects, and only Python objects,
//! are allocated in the object domain (`PyObject_Malloc` and friends): its
//! allocator and garbage collector rely on it. Buffers belong to `PyMem_*` (or
//! `malloc`); every block must be freed by its own domain.
//!
//! All three rules start from the same list of allocations stored in a variable
//! or a field (`allocations`), computed once per file.

use std::sync::Arc;

use crate::capi::{self, AllocOp};
use crate::rules::FileContext;
use crate::source::index::{Call, Range};
use crate::source::privacy::normalize;

pub mod ft501_object_allocator_for_buffer;
pub mod ft502_cross_domain_free;
pub mod ft503_object_outside_object_domain;

pub use ft501_object_allocator_for_buffer::OBJECT_DOMAIN_BUFFER;
pub use ft502_cross_domain_free::CROSS_DOMAIN_FREE;
pub use ft503_object_outside_object_domain::OBJECT_OUTSIDE_DOMAIN;

/// An allocator family. A block must be freed by the family that allocated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Domain {
    C,
    Raw,
    Mem,
    Object,
}

impl Domain {
    /// How the findings name the domain.
    pub(super) fn name(self) -> &'static str {
        match self {
            Domain::C => "the C library (`malloc`)",
            Domain::Raw => "the raw domain (`PyMem_Raw*`)",
            Domain::Mem => "the memory domain (`PyMem_*`)",
            Domain::Object => "the object domain (`PyObject_*`)",
        }
    }

    /// The function that frees a block of this domain.
    pub(super) fn free_for(self) -> &'static str {
        match self {
            Domain::C => "free",
            Domain::Raw => capi::free_function(capi::Domain::Raw).unwrap_or_default(),
            Domain::Mem => capi::free_function(capi::Domain::Mem).unwrap_or_default(),
            Domain::Object => capi::free_function(capi::Domain::Object).unwrap_or_default(),
        }
    }

    /// The domain of a call that allocates (`Alloc`, `Calloc`, `Realloc`) or frees,
    /// as `op` asks: the C library's own functions, then the catalogue's allocators.
    pub(super) fn of_call(name: &str, frees: bool) -> Option<Domain> {
        let libc: &[&str] = if frees { &LIBC_FREE } else { &LIBC_ALLOC };
        if libc.contains(&name) {
            return Some(Domain::C);
        }
        let a = capi::allocator(name)?;
        if (a.op == AllocOp::Free) != frees {
            return None;
        }
        Some(match a.domain {
            capi::Domain::Raw => Domain::Raw,
            capi::Domain::Mem => Domain::Mem,
            capi::Domain::Object => Domain::Object,
        })
    }
}

/// The C library's allocators: not C-API names, so not in the catalogue.
const LIBC_ALLOC: [&str; 5] = ["malloc", "calloc", "realloc", "strdup", "strndup"];
const LIBC_FREE: [&str; 1] = ["free"];

/// One allocation stored in a variable or field.
pub(super) struct Allocation {
    /// The allocating call (an index into the file's `index.calls`).
    call: usize,
    pub domain: Domain,
    /// Where it was stored: a local (`buf`) keyed by function, or a field (`->buf`) file-wide.
    pub key: String,
    pub function: usize,
    pub target_text: String,
}

impl Allocation {
    /// The allocating call.
    pub fn call<'c>(&self, ctx: &FileContext<'c>) -> &'c Call {
        &ctx.index.calls[self.call]
    }
}

/// Every allocation of a file that is stored in a variable or a field, in call order.
pub(super) struct Allocations(pub Vec<Allocation>);

/// The file's [`Allocations`], computed once.
pub(super) fn allocations(ctx: &FileContext) -> Arc<Allocations> {
    ctx.memo.get(|| Allocations(collect_allocations(ctx)))
}

/// The text of a byte range of the file being checked.
pub(super) fn text<'a>(ctx: &FileContext<'a>, r: Range) -> &'a str {
    ctx.file.parse_text.get(r.0..r.1).unwrap_or("")
}

/// `buf` → `fn#buf`; `self->buf` → `->buf` (any object's field of that name).
pub(super) fn storage_key(target: &str, function: usize) -> String {
    let t = normalize(target);
    if let Some(i) = t.rfind("->") {
        return t[i..].to_owned();
    }
    if let Some(i) = t.rfind('.') {
        return format!("->{}", &t[i + 1..]);
    }
    format!("{function}#{t}")
}

fn collect_allocations(ctx: &FileContext) -> Vec<Allocation> {
    let idx = ctx.index;
    let mut out = Vec::new();
    for (call_index, call) in idx.calls.iter().enumerate() {
        let (Some(domain), Some(fi)) = (Domain::of_call(&call.name, false), call.function) else {
            continue;
        };
        let call_text = normalize(text(ctx, call.range));
        // `x = PyMem_Malloc(n)` or `T *x = (T *)PyMem_Malloc(n)`.
        let target = idx
            .assignments
            .iter()
            .find(|a| {
                a.rhs.0 <= call.range.0
                    && call.range.1 <= a.rhs.1
                    && normalize(text(ctx, a.rhs)) == call_text
            })
            .map(|a| a.lhs_text.clone())
            .or_else(|| {
                idx.decls
                    .iter()
                    .filter(|d| d.function == Some(fi))
                    .find(|d| {
                        d.init
                            .as_ref()
                            .is_some_and(|i| normalize(text(ctx, i.range())) == call_text)
                    })
                    .map(|d| d.name.clone())
            });
        let Some(target) = target else { continue };
        out.push(Allocation {
            call: call_index,
            domain,
            key: storage_key(&target, fi),
            function: fi,
            target_text: target,
        });
    }
    out
}
