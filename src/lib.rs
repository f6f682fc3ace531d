//! ftaudit: find, explain and fix what keeps a CPython extension module from
//! running correctly on free-threaded Python.
//!
//! Producers (`check`, `wheel`, `verify`) all emit [`diagnostic::Diagnostic`]s;
//! [`report`] renders them. See ARCHITECTURE.md for the map.

pub mod binary;
pub mod build;
pub mod cache;
pub mod capi;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod report;
pub mod rule;
pub mod rules;
pub mod runtime;
pub mod scope;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod timing;
