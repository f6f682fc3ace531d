//! Conditions of a whole file: the [`ConditionMap`] and its budgets.

use std::sync::Arc as Rc;

use super::condition::{Condition, PExpr};
use super::expr::parse_expr;
use crate::source::lex::{Directive, DirectiveKind};

/// One `#if ... #endif` group: the byte ranges of each branch's content.
#[derive(Debug, Clone)]
pub struct CondGroup {
    pub branches: Vec<(usize, usize)>,
    pub exprs: Vec<Option<Rc<PExpr>>>,
    /// How many groups enclose this one.
    pub depth: usize,
}

/// Budgets of the condition model. Real code nests `#if` a dozen levels at most and
/// rarely chains more than a few dozen `#elif`s; a file past these limits is
/// analysed with the deeper (or later) conditions unknown, and says so
/// ([`ConditionMap::limit`]). Without them a generated 100 KB file of `#elif`
/// lines or nested `#if`s took gigabytes.
pub const MAX_CONDITION_DEPTH: usize = 64;
/// See [`MAX_CONDITION_DEPTH`].
pub const MAX_GROUP_BRANCHES: usize = 64;

/// Maps byte offsets of a file to the condition they are compiled under.
#[derive(Debug, Clone, Default)]
pub struct ConditionMap {
    /// Region starts (sorted) and the condition from there to the next start.
    starts: Vec<usize>,
    conds: Vec<Condition>,
    pub groups: Vec<CondGroup>,
    /// `#if` without `#endif`, `#endif` without `#if` and similar.
    pub unbalanced: bool,
    /// Which budget the file exceeded, if any (conditions past it are unknown).
    pub limit: Option<String>,
}

struct Frame {
    /// The own expressions of earlier branches in this group; a later branch is
    /// compiled when none of them holds (and its own does). Only the branches' own
    /// expressions are kept: negating each earlier branch's whole condition made
    /// the condition of branch k contain every earlier one, so a chain of `#elif`s
    /// grew without bound.
    previous: Vec<Condition>,
    current: Condition,
    group: usize,
    /// Past a budget: every branch of this group is an unknown condition.
    untracked: bool,
}

/// A condition nothing can evaluate, for code past a budget.
fn untracked_condition(what: &str) -> Condition {
    Condition::Expr(Rc::new(PExpr::Opaque(format!("<{what}>"))))
}

impl ConditionMap {
    pub fn build(directives: &[Directive], text_len: usize) -> ConditionMap {
        let mut map = ConditionMap {
            starts: vec![0],
            conds: vec![Condition::True],
            ..Default::default()
        };
        let mut stack: Vec<Frame> = Vec::new();
        for d in directives {
            let after = (d.end + 1).min(text_len);
            match d.kind {
                DirectiveKind::If | DirectiveKind::Ifdef | DirectiveKind::Ifndef => {
                    let e = branch_expr(d);
                    let untracked = stack.len() >= MAX_CONDITION_DEPTH;
                    let c = if untracked {
                        map.limit.get_or_insert_with(|| {
                            format!("conditionals nested deeper than {MAX_CONDITION_DEPTH} levels: their conditions are unknown")
                        });
                        untracked_condition("deeply nested condition")
                    } else {
                        Condition::Expr(e.clone())
                    };
                    map.groups.push(CondGroup {
                        branches: vec![(after, after)],
                        exprs: vec![Some(e)],
                        depth: stack.len(),
                    });
                    stack.push(Frame {
                        previous: vec![],
                        current: c,
                        group: map.groups.len() - 1,
                        untracked,
                    });
                }
                DirectiveKind::Elif
                | DirectiveKind::Elifdef
                | DirectiveKind::Elifndef
                | DirectiveKind::Else => {
                    let Some(top) = stack.last_mut() else {
                        map.unbalanced = true;
                        continue;
                    };
                    let g = &mut map.groups[top.group];
                    if let Some(last) = g.branches.last_mut() {
                        last.1 = d.start;
                    }
                    g.branches.push((after, after));
                    let own = match g.exprs.last() {
                        Some(Some(e)) => Some(Condition::Expr(e.clone())),
                        // After `#else` (a second one is malformed) nothing is new.
                        _ => None,
                    };
                    top.previous.extend(own);
                    let e = (d.kind != DirectiveKind::Else).then(|| branch_expr(d));
                    g.exprs.push(e.clone());
                    if top.previous.len() >= MAX_GROUP_BRANCHES {
                        map.limit.get_or_insert_with(|| {
                            format!("an #if group with more than {MAX_GROUP_BRANCHES} branches: the conditions of later branches are unknown")
                        });
                        top.untracked = true;
                    }
                    top.current = if top.untracked {
                        untracked_condition("branch of a long #elif chain")
                    } else {
                        let mut parts: Vec<Condition> = top
                            .previous
                            .iter()
                            .map(|p| Condition::Not(Rc::new(p.clone())))
                            .collect();
                        parts.extend(e.map(Condition::Expr));
                        Condition::and(parts)
                    };
                }
                DirectiveKind::Endif => {
                    let Some(top) = stack.pop() else {
                        map.unbalanced = true;
                        continue;
                    };
                    if let Some(last) = map.groups[top.group].branches.last_mut() {
                        last.1 = d.start;
                    }
                }
                _ => continue,
            }
            // Frames past the depth budget are all unknown: the first stands for them.
            let cond = Condition::and(
                stack
                    .iter()
                    .take(MAX_CONDITION_DEPTH + 1)
                    .map(|f| f.current.clone())
                    .collect(),
            );
            map.starts.push(after);
            map.conds.push(cond);
        }
        if !stack.is_empty() {
            map.unbalanced = true;
            for f in stack {
                if let Some(last) = map.groups[f.group].branches.last_mut() {
                    last.1 = text_len;
                }
            }
        }
        map
    }

    /// The condition at byte `offset`.
    pub fn at(&self, offset: usize) -> &Condition {
        let i = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        // Several directives may end at the same offset; the last one wins.
        let mut j = i;
        while j + 1 < self.starts.len() && self.starts[j + 1] == self.starts[i] {
            j += 1;
        }
        &self.conds[j]
    }
}

fn branch_expr(d: &Directive) -> Rc<PExpr> {
    let name = || d.arg.split_whitespace().next().unwrap_or("").to_owned();
    Rc::new(match d.kind {
        DirectiveKind::Ifdef | DirectiveKind::Elifdef => PExpr::Defined(name()),
        DirectiveKind::Ifndef | DirectiveKind::Elifndef => {
            PExpr::Unary("!", Box::new(PExpr::Defined(name())))
        }
        _ => parse_expr(&d.arg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::lex::lex;
    use crate::source::preproc::{BuildConfig, Truth};

    fn cond_at(src: &str, needle: &str) -> Condition {
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let at = src
            .find(&format!("\n{needle}\n"))
            .expect("needle on a line of its own")
            + 1;
        m.at(at).clone()
    }

    #[test]
    fn evaluates_common_guards() {
        let ft = BuildConfig::free_threaded(13);
        let gil = BuildConfig::gil(13);
        let old = BuildConfig::gil(12);
        let abi3 = BuildConfig::limited(13, 9);
        let src = "#ifdef Py_GIL_DISABLED\nA\n#else\nB\n#endif\n#if PY_VERSION_HEX >= 0x030D0000\nC\n#endif\n#ifdef Py_mod_gil\nD\n#endif\n#if defined(Py_GIL_DISABLED) && !defined(Py_LIMITED_API)\nE\n#endif\n";
        assert_eq!(cond_at(src, "A").eval(&ft), Truth::True);
        assert_eq!(cond_at(src, "A").eval(&gil), Truth::False);
        assert_eq!(cond_at(src, "B").eval(&ft), Truth::False);
        assert_eq!(cond_at(src, "C").eval(&old), Truth::False);
        assert_eq!(cond_at(src, "C").eval(&abi3), Truth::True); // the howto guard breaks abi3
        assert_eq!(cond_at(src, "D").eval(&abi3), Truth::False);
        assert_eq!(
            cond_at(src, "E").eval(&BuildConfig::abi3t(15)),
            Truth::False
        );
        assert_eq!(cond_at(src, "E").eval(&ft), Truth::True);
    }

    #[test]
    fn unknown_atoms_and_exclusivity() {
        let src = "#ifdef HAVE_X\nA\n#else\nB\n#endif\n#if HAVE_X\nC\n#endif\n";
        let ft = BuildConfig::free_threaded(13);
        let a = cond_at(src, "A");
        let b = cond_at(src, "B");
        assert_eq!(a.eval(&ft), Truth::Unknown);
        assert!(!a.compatible_with(&b, &ft));
        assert!(a.compatible_with(&a, &ft));
    }

    #[test]
    fn elif_chain() {
        let src = "#if PY_VERSION_HEX >= 0x030E0000\nA\n#elif PY_VERSION_HEX >= 0x030D0000\nB\n#else\nC\n#endif\n";
        assert_eq!(
            cond_at(src, "B").eval(&BuildConfig::free_threaded(13)),
            Truth::True
        );
        assert_eq!(
            cond_at(src, "B").eval(&BuildConfig::free_threaded(14)),
            Truth::False
        );
        assert_eq!(cond_at(src, "C").eval(&BuildConfig::gil(12)), Truth::True);
    }
}
