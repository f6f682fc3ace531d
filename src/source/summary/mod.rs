//! Function summaries and the type model: which shared state every function of the
//! project reads and changes, directly or through the functions it calls, and under
//! what protection.
//!
//! Two stages, so that the first can be cached per file:
//!
//! 1. [`FileFacts::extract`] turns one parsed file into plain data ([`FileFacts`]:
//!    serialisable, no tree-sitter types, no borrows): per function the accesses it
//!    makes to fields of its parameters (and of locals cast from them), to C++
//!    members (`this->x` or a bare member name), and to variables with static
//!    storage; what each access does ([`AccessKind`]: read, pass to a call, write,
//!    read-modify-write, replace, reallocate, free, mutate a container); what
//!    protects it ([`Protection`]: a critical section, a mutex, an atomic, a
//!    one-time initialiser, or a detached region); its calls with their arguments
//!    mapped to the same bases (a fresh object the function allocated is never
//!    shared); the file's globals, structs and extension types.
//! 2. [`Summaries::build`] works on those structs only: it resolves calls across
//!    files (same file first, then non-`static` functions, C++ member calls by the
//!    receiver's class), substitutes each call's arguments into the callee's
//!    summary (`resize(self, n)` reallocating `b->buf` becomes `self->buf`
//!    reallocated by the caller; `arena_alloc(&default_arena)` writing `a->size`
//!    becomes a write of the global), combining the protection held at the call
//!    with the callee's own, and iterates bottom-up to a fixed point so recursion
//!    terminates. Each summarised access keeps where it happens and the call it
//!    comes through, for messages and related locations.
//!
//! The [`TypeModel`] groups functions by extension type: each static
//! `PyTypeObject`/`PyType_Spec`, its object struct (`sizeof` in the basic size),
//! the functions it names and which are lifecycle slots, and the C++ classes its
//! object owns.

mod facts;
mod project;
mod types;

pub use facts::{
    AccessKind, Arg, Base, CallSite, FileFacts, FnFacts, GlobalVar, Protection, StructFacts,
    TypeDecl,
};
pub use project::{FnId, GlobalInfo, SAccess, SBase, Summaries, Sym};
pub use types::{ExtType, TypeModel};
