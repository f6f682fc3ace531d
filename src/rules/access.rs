//! placeholder
use crate::diagnostic::Diagnostic;
use crate::rules::{FileContext, Rule};
pub static RULES: &[&Rule] = &[];
pub fn check_file(_ctx: &FileContext, _out: &mut Vec<Diagnostic>) {}
