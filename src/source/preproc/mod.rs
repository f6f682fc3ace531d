//! Preprocessor conditions without a preprocessor.
//!
//! Every byte of a file sits under a stack of `#if`/`#ifdef`/`#elif`/`#else`
//! branches. We keep that stack as a [`Condition`] formula over the directive
//! expressions and evaluate it against a [`BuildConfig`] (free-threaded 3.13, GIL
//! build, limited API, ...) to `true`, `false` or `unknown`. That answers the
//! question every rule asks — "is this code compiled in the free-threaded build?" —
//! without headers or a compiler.

mod condition;
mod config;
mod expr;
mod map;
mod mask;

pub use condition::{Condition, PExpr, Truth};
pub use config::{BuildConfig, MacroState, FREE_THREADED_MINORS};
pub use expr::parse_expr;
pub use map::{CondGroup, ConditionMap, MAX_CONDITION_DEPTH, MAX_GROUP_BRANCHES};
pub use mask::mask_for_parsing;
