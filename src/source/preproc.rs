//! Preprocessor conditions without a preprocessor.
//!
//! Every byte of a file sits under a stack of `#if`/`#ifdef`/`#elif`/`#else`
//! branches. We keep that stack as a [`Condition`] formula over the directive
//! expressions and evaluate it against a [`BuildConfig`] (free-threaded 3.13, GIL
//! build, limited API, ...) to `true`, `false` or `unknown`. That answers the
//! question every rule asks — "is this code compiled in the free-threaded build?" —
//! without headers or a compiler.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc as Rc;

use super::lex::{Directive, DirectiveKind};
use super::Language;
use crate::capi;

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn is_true(self) -> bool {
        self == Truth::True
    }
    pub fn is_false(self) -> bool {
        self == Truth::False
    }
    /// Not known to be compiled out.
    pub fn maybe(self) -> bool {
        self != Truth::False
    }
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A parsed `#if` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PExpr {
    Int(i64),
    Ident(String),
    Defined(String),
    /// Something we do not model (a function-like macro call, a string).
    Opaque(String),
    Unary(&'static str, Box<PExpr>),
    Binary(&'static str, Box<PExpr>, Box<PExpr>),
    Ternary(Box<PExpr>, Box<PExpr>, Box<PExpr>),
}

impl fmt::Display for PExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PExpr::Int(v) => write!(f, "{v:#X}"),
            PExpr::Ident(s) | PExpr::Opaque(s) => f.write_str(s),
            PExpr::Defined(s) => write!(f, "defined({s})"),
            PExpr::Unary(op, e) => write!(f, "{op}{e}"),
            PExpr::Binary(op, a, b) => write!(f, "({a} {op} {b})"),
            PExpr::Ternary(c, a, b) => write!(f, "({c} ? {a} : {b})"),
        }
    }
}

/// The condition under which a piece of code is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    True,
    Expr(Rc<PExpr>),
    Not(Rc<Condition>),
    /// Shared, so that the condition of every region inside a deep nest or a long
    /// `#elif` chain reuses its enclosing conditions instead of copying them.
    And(Rc<[Condition]>),
}

impl Condition {
    pub fn and(parts: Vec<Condition>) -> Condition {
        let parts: Vec<_> = parts
            .into_iter()
            .filter(|c| *c != Condition::True)
            .collect();
        match parts.len() {
            0 => Condition::True,
            1 => parts.into_iter().next().unwrap_or(Condition::True),
            _ => Condition::And(parts.into()),
        }
    }

    pub fn is_unconditional(&self) -> bool {
        *self == Condition::True
    }

    /// Evaluates against a configuration; atoms the configuration does not know are unknown.
    pub fn eval(&self, cfg: &BuildConfig) -> Truth {
        self.eval_with(cfg, &HashMap::new())
    }

    fn eval_with(&self, cfg: &BuildConfig, assign: &HashMap<String, bool>) -> Truth {
        match self {
            Condition::True => Truth::True,
            Condition::Expr(e) => truth(e, cfg, assign),
            Condition::Not(c) => c.eval_with(cfg, assign).not(),
            Condition::And(cs) => {
                let mut acc = Truth::True;
                for c in cs.iter() {
                    match c.eval_with(cfg, assign) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => acc = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                acc
            }
        }
    }

    fn atoms(&self, cfg: &BuildConfig, out: &mut BTreeSet<String>) {
        match self {
            Condition::True => {}
            Condition::Expr(e) => expr_atoms(e, cfg, out),
            Condition::Not(c) => c.atoms(cfg, out),
            Condition::And(cs) => cs.iter().for_each(|c| c.atoms(cfg, out)),
        }
    }

    /// Can both conditions hold at once in some build that `cfg` describes?
    /// Unknown atoms are enumerated as free booleans (up to 12 of them; beyond
    /// that we answer "yes").
    pub fn compatible_with(&self, other: &Condition, cfg: &BuildConfig) -> bool {
        let both = Condition::and(vec![self.clone(), other.clone()]);
        let mut atoms = BTreeSet::new();
        both.atoms(cfg, &mut atoms);
        let atoms: Vec<String> = atoms.into_iter().collect();
        if atoms.len() > 12 {
            return true;
        }
        for bits in 0u32..(1u32 << atoms.len()) {
            let assign: HashMap<String, bool> = atoms
                .iter()
                .enumerate()
                .map(|(i, a)| (a.clone(), bits & (1 << i) != 0))
                .collect();
            if both.eval_with(cfg, &assign) != Truth::False {
                return true;
            }
        }
        false
    }

    /// Mentions `defined(name)` or the macro `name` anywhere.
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Condition::True => false,
            Condition::Expr(e) => expr_mentions(e, name),
            Condition::Not(c) => c.mentions(name),
            Condition::And(cs) => cs.iter().any(|c| c.mentions(name)),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::True => f.write_str("1"),
            Condition::Expr(e) => write!(f, "{e}"),
            Condition::Not(c) => write!(f, "!({c})"),
            Condition::And(cs) => {
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    }
}

fn expr_mentions(e: &PExpr, name: &str) -> bool {
    match e {
        PExpr::Ident(s) | PExpr::Defined(s) => s == name,
        PExpr::Opaque(s) => s.contains(name),
        PExpr::Int(_) => false,
        PExpr::Unary(_, a) => expr_mentions(a, name),
        PExpr::Binary(_, a, b) => expr_mentions(a, name) || expr_mentions(b, name),
        PExpr::Ternary(c, a, b) => {
            expr_mentions(c, name) || expr_mentions(a, name) || expr_mentions(b, name)
        }
    }
}

fn is_logical(e: &PExpr) -> bool {
    matches!(e, PExpr::Unary("!", _) | PExpr::Binary("&&" | "||", _, _))
}

fn truth(e: &PExpr, cfg: &BuildConfig, assign: &HashMap<String, bool>) -> Truth {
    match e {
        PExpr::Unary("!", a) => truth(a, cfg, assign).not(),
        PExpr::Binary("&&", a, b) => match (truth(a, cfg, assign), truth(b, cfg, assign)) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        },
        PExpr::Binary("||", a, b) => match (truth(a, cfg, assign), truth(b, cfg, assign)) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        },
        _ => match value(e, cfg) {
            Some(v) => {
                if v != 0 {
                    Truth::True
                } else {
                    Truth::False
                }
            }
            None => match assign.get(&e.to_string()) {
                Some(true) => Truth::True,
                Some(false) => Truth::False,
                None => Truth::Unknown,
            },
        },
    }
}

fn expr_atoms(e: &PExpr, cfg: &BuildConfig, out: &mut BTreeSet<String>) {
    match e {
        PExpr::Unary("!", a) => expr_atoms(a, cfg, out),
        PExpr::Binary("&&" | "||", a, b) => {
            expr_atoms(a, cfg, out);
            expr_atoms(b, cfg, out);
        }
        _ if !is_logical(e) && value(e, cfg).is_none() => {
            out.insert(e.to_string());
        }
        _ => {}
    }
}

fn value(e: &PExpr, cfg: &BuildConfig) -> Option<i64> {
    match e {
        PExpr::Int(v) => Some(*v),
        PExpr::Ident(name) => match cfg.macros.get(name.as_str()) {
            Some(MacroState::Defined(v)) => *v,
            // An undefined identifier in #if evaluates to 0.
            Some(MacroState::Undefined) => Some(0),
            None => None,
        },
        PExpr::Defined(name) => match cfg.macros.get(name.as_str()) {
            Some(MacroState::Defined(_)) => Some(1),
            Some(MacroState::Undefined) => Some(0),
            None => None,
        },
        PExpr::Opaque(_) => None,
        PExpr::Unary(op, a) => {
            let a = value(a, cfg)?;
            Some(match *op {
                "!" => (a == 0) as i64,
                "-" => a.wrapping_neg(),
                "~" => !a,
                _ => a,
            })
        }
        PExpr::Binary(op, a, b) => {
            // Short-circuit on known operands even when the other side is unknown.
            let (va, vb) = (value(a, cfg), value(b, cfg));
            match (*op, va, vb) {
                ("&&", Some(0), _) | ("&&", _, Some(0)) => return Some(0),
                ("||", Some(x), _) | ("||", _, Some(x)) if x != 0 => return Some(1),
                _ => {}
            }
            let (a, b) = (va?, vb?);
            Some(match *op {
                "+" => a.wrapping_add(b),
                "-" => a.wrapping_sub(b),
                "*" => a.wrapping_mul(b),
                "/" => a.checked_div(b)?,
                "%" => a.checked_rem(b)?,
                "<<" => a.checked_shl(b as u32)?,
                ">>" => a.checked_shr(b as u32)?,
                "&" => a & b,
                "|" => a | b,
                "^" => a ^ b,
                "==" => (a == b) as i64,
                "!=" => (a != b) as i64,
                "<" => (a < b) as i64,
                "<=" => (a <= b) as i64,
                ">" => (a > b) as i64,
                ">=" => (a >= b) as i64,
                "&&" => (a != 0 && b != 0) as i64,
                "||" => (a != 0 || b != 0) as i64,
                _ => return None,
            })
        }
        PExpr::Ternary(c, a, b) => {
            if value(c, cfg)? != 0 {
                value(a, cfg)
            } else {
                value(b, cfg)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing #if expressions

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Ident(String),
    Op(&'static str),
    Other(String),
}

const OPS: [&str; 24] = [
    "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "!", "<", ">", "(", ")", "+", "-", "*", "/",
    "%", "&", "|", "^", "~", "?", ":",
];

fn tokenize(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let lit = s[st..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(h) = lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()
            } else if lit.len() > 1 && lit.starts_with('0') {
                i64::from_str_radix(&lit[1..], 8).ok()
            } else {
                lit.parse().ok()
            };
            out.push(
                v.map(Tok::Int)
                    .unwrap_or_else(|| Tok::Other(s[st..i].to_owned())),
            );
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[st..i].to_owned()));
            continue;
        }
        for op in OPS {
            if s[i..].starts_with(op) {
                out.push(Tok::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        let ch = s[i..].chars().next().map(|c| c.len_utf8()).unwrap_or(1);
        out.push(Tok::Other(s[i..i + ch].to_owned()));
        i += ch;
    }
    out
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
}

impl ExprParser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ternary(&mut self) -> Option<PExpr> {
        let c = self.binary(0)?;
        if self.eat("?") {
            let a = self.ternary()?;
            if !self.eat(":") {
                return None;
            }
            let b = self.ternary()?;
            return Some(PExpr::Ternary(Box::new(c), Box::new(a), Box::new(b)));
        }
        Some(c)
    }

    fn binary(&mut self, min_prec: u8) -> Option<PExpr> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.peek_op() {
            let prec = match op {
                "||" => 1,
                "&&" => 2,
                "|" => 3,
                "^" => 4,
                "&" => 5,
                "==" | "!=" => 6,
                "<" | "<=" | ">" | ">=" => 7,
                "<<" | ">>" => 8,
                "+" | "-" => 9,
                "*" | "/" | "%" => 10,
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = PExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<PExpr> {
        for op in ["!", "-", "~", "+"] {
            if self.eat(op) {
                let e = self.unary()?;
                return Some(PExpr::Unary(op, Box::new(e)));
            }
        }
        self.primary()
    }

    fn primary(&mut self) -> Option<PExpr> {
        let tok = self.toks.get(self.pos)?.clone();
        self.pos += 1;
        match tok {
            Tok::Int(v) => Some(PExpr::Int(v)),
            Tok::Op("(") => {
                let e = self.ternary()?;
                self.eat(")").then_some(e)
            }
            Tok::Ident(name) if name == "defined" => {
                let paren = self.eat("(");
                let Some(Tok::Ident(m)) = self.toks.get(self.pos).cloned() else {
                    return None;
                };
                self.pos += 1;
                if paren && !self.eat(")") {
                    return None;
                }
                Some(PExpr::Defined(m))
            }
            Tok::Ident(name) => {
                if self.peek_op() == Some("(") {
                    // Function-like macro call (e.g. __has_include(...), PY_VERSION_CHECK(...)).
                    let start = self.pos;
                    let mut depth = 0;
                    while let Some(t) = self.toks.get(self.pos) {
                        self.pos += 1;
                        match t {
                            Tok::Op("(") => depth += 1,
                            Tok::Op(")") => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    let args: Vec<String> = self.toks[start..self.pos]
                        .iter()
                        .map(|t| match t {
                            Tok::Int(v) => v.to_string(),
                            Tok::Ident(s) | Tok::Other(s) => s.clone(),
                            Tok::Op(o) => (*o).to_string(),
                        })
                        .collect();
                    return Some(PExpr::Opaque(format!("{name}{}", args.join(""))));
                }
                Some(PExpr::Ident(name))
            }
            Tok::Other(s) => Some(PExpr::Opaque(s)),
            Tok::Op(_) => None,
        }
    }
}

/// Longer `#if` expressions are one opaque atom: the parser and evaluator recurse
/// on nesting, and real guards are a handful of tokens (CPython's longest are
/// under a hundred).
const MAX_EXPR_TOKENS: usize = 1024;

/// Parses the expression of `#if`/`#elif`. Anything unparseable becomes one opaque atom.
pub fn parse_expr(s: &str) -> PExpr {
    let toks = tokenize(s);
    if toks.len() > MAX_EXPR_TOKENS {
        return PExpr::Opaque(s.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let mut p = ExprParser { toks, pos: 0 };
    match p.ternary() {
        Some(e) if p.pos == p.toks.len() => e,
        _ => PExpr::Opaque(s.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

// ---------------------------------------------------------------------------
// Build configurations

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacroState {
    Defined(Option<i64>),
    Undefined,
}

/// A build of an extension: which CPython, free-threaded or not, limited API or not.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub name: String,
    pub minor: u32,
    pub free_threaded: bool,
    pub limited_api: bool,
    macros: HashMap<&'static str, MacroState>,
}

fn version_hex(minor: u32) -> i64 {
    0x0300_00F0 | ((minor as i64) << 16)
}

impl BuildConfig {
    fn base(
        name: String,
        minor: u32,
        free_threaded: bool,
        limited: Option<i64>,
        abi3t: bool,
    ) -> Self {
        use MacroState::*;
        let mut macros = HashMap::new();
        macros.insert("PY_VERSION_HEX", Defined(Some(version_hex(minor))));
        macros.insert("PY_MAJOR_VERSION", Defined(Some(3)));
        macros.insert("PY_MINOR_VERSION", Defined(Some(minor as i64)));
        macros.insert(
            "Py_GIL_DISABLED",
            if free_threaded {
                Defined(Some(1))
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_LIMITED_API",
            limited.map(|v| Defined(Some(v))).unwrap_or(Undefined),
        );
        macros.insert(
            "Py_TARGET_ABI3T",
            if abi3t {
                Defined(Some(version_hex(minor)))
            } else {
                Undefined
            },
        );
        let api_ok = limited.is_none_or(|v| v >= 0x030D_0000);
        let has_gil_slot = minor >= 13 && api_ok;
        macros.insert(
            "Py_mod_gil",
            if has_gil_slot {
                Defined(Some(4))
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_MOD_GIL_NOT_USED",
            if has_gil_slot {
                Defined(None)
            } else {
                Undefined
            },
        );
        macros.insert(
            "Py_MOD_GIL_USED",
            if has_gil_slot {
                Defined(None)
            } else {
                Undefined
            },
        );
        let has_cs = minor >= 13 && limited.is_none();
        macros.insert(
            "Py_BEGIN_CRITICAL_SECTION",
            if has_cs { Defined(None) } else { Undefined },
        );
        macros.insert("Py_PYTHON_H", Defined(None));
        macros.insert("Py_BUILD_CORE", Undefined);
        macros.insert("Py_BUILD_CORE_BUILTIN", Undefined);
        macros.insert("Py_BUILD_CORE_MODULE", Undefined);
        BuildConfig {
            name,
            minor,
            free_threaded,
            limited_api: limited.is_some(),
            macros,
        }
    }

    /// The free-threaded build of CPython 3.`minor`.
    pub fn free_threaded(minor: u32) -> Self {
        Self::base(format!("3.{minor}t"), minor, true, None, false)
    }

    /// The regular (GIL) build of CPython 3.`minor`.
    pub fn gil(minor: u32) -> Self {
        Self::base(format!("3.{minor}"), minor, false, None, false)
    }

    /// A limited-API (abi3) build for `Py_LIMITED_API = api` on 3.`minor` headers.
    pub fn limited(minor: u32, api_minor: u32) -> Self {
        Self::base(
            format!("abi3 (3.{api_minor}) on 3.{minor}"),
            minor,
            false,
            Some(version_hex(api_minor) & !0xFF),
            false,
        )
    }

    /// A PEP 803 abi3t build (3.15+): free-threaded and limited API at once.
    pub fn abi3t(minor: u32) -> Self {
        Self::base(
            format!("abi3t 3.{minor}"),
            minor,
            true,
            Some(version_hex(minor) & !0xFF),
            true,
        )
    }

    /// The same configuration with `__cplusplus` decided by the file's language.
    pub fn for_language(mut self, lang: Language) -> Self {
        let state = if lang == Language::Cpp {
            MacroState::Defined(Some(201703))
        } else {
            MacroState::Undefined
        };
        self.macros.insert("__cplusplus", state);
        self
    }

    pub fn is_abi3t(&self) -> bool {
        matches!(
            self.macros.get("Py_TARGET_ABI3T"),
            Some(MacroState::Defined(_))
        )
    }
}

/// The Python versions ftaudit knows free-threaded builds of.
pub const FREE_THREADED_MINORS: [u32; 3] = [13, 14, 15];

// ---------------------------------------------------------------------------
// Conditions of a whole file

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

/// The text tree-sitter parses: directive lines blanked (so `#ifdef` inside an
/// initializer list does not break it), `#if 0` branches blanked, and for groups
/// whose branches each open (or close) the same number of braces — alternative
/// function headers, typically — only the first branch kept. Offsets and line
/// numbers stay those of the original file.
pub fn mask_for_parsing(text: &str, directives: &[Directive], map: &ConditionMap) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let blank = |bytes: &mut Vec<u8>, s: usize, e: usize| {
        for b in &mut bytes[s.min(text.len())..e.min(text.len())] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    };
    for d in directives {
        blank(&mut bytes, d.start, d.end);
    }
    for g in &map.groups {
        let first_is_zero = matches!(g.exprs.first(), Some(Some(e)) if **e == PExpr::Int(0));
        if first_is_zero && !g.branches.is_empty() {
            let (s, e) = g.branches[0];
            blank(&mut bytes, s, e);
            continue;
        }
        // Counting braces reads every branch; past the budgets (where branches nest
        // or repeat without bound) the groups are left as they are.
        if g.branches.len() >= 2
            && g.depth < MAX_CONDITION_DEPTH
            && g.branches.len() <= MAX_GROUP_BRANCHES
        {
            let deltas: Vec<i64> = g
                .branches
                .iter()
                .map(|&(s, e)| brace_delta(&text[s.min(e)..e]))
                .collect();
            if deltas[0] != 0 && deltas.iter().all(|d| *d == deltas[0]) {
                for &(s, e) in &g.branches[1..] {
                    blank(&mut bytes, s, e);
                }
            }
        }
    }
    terminate_statement_macros(text, &mut bytes);
    apply_local_block_macros(text, directives, &mut bytes);
    // Blanking only replaced ASCII bytes inside directive lines or whole branches
    // of valid UTF-8 text with spaces; fall back to the original on any surprise.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// Macros used as statements without a semicolon (`Py_BEGIN_ALLOW_THREADS`,
/// `PyObject_HEAD`), or as list elements without a comma (`PyVarObject_HEAD_INIT(..)`
/// expands to `{...},`), make tree-sitter swallow what follows. Where the next line
/// is indented (or a space follows on the same line), put the missing `;` or `,` in
/// place of that blank: offsets and line numbers stay the same.
///
/// These are the syntax-only macros; the region macros (critical sections, thread
/// state) come from the C-API catalogue, see [`terminated_macros`].
const TERMINATED_MACROS: [(&str, u8); 11] = [
    ("_Py_BEGIN_SUPPRESS_IPH", b';'),
    ("_Py_END_SUPPRESS_IPH", b';'),
    ("Py_TRASHCAN_BEGIN", b';'),
    ("Py_TRASHCAN_END", b';'),
    ("_Py_COMP_DIAG_PUSH", b';'),
    ("_Py_COMP_DIAG_POP", b';'),
    ("_Py_COMP_DIAG_IGNORE_DEPR_DECLS", b';'),
    ("PyObject_HEAD", b';'),
    ("PyObject_VAR_HEAD", b';'),
    ("PyVarObject_HEAD_INIT", b','),
    ("PyObject_HEAD_INIT", b','),
];

/// Annotations between a declaration's type and its name (calling conventions,
/// inlining hints) that tree-sitter cannot know: blanked.
const ANNOTATION_MACROS: [&str; 11] = [
    "XMLCALL",
    "PTRCALL",
    "PTRFASTCALL",
    "FASTCALL",
    "ALWAYS_INLINE",
    "Py_ALWAYS_INLINE",
    "Py_NO_INLINE",
    "_Py_NO_RETURN",
    "_Py_NO_SANITIZE_THREAD",
    "_Py_NO_SANITIZE_MEMORY",
    "_Py_NO_SANITIZE_ADDRESS",
];

/// Macros that wrap a type (`Py_LOCAL_INLINE(int) f(void)`): the name and the
/// parentheses are blanked, the type inside is kept.
const TYPE_WRAPPER_MACROS: [&str; 5] = [
    "Py_LOCAL_INLINE",
    "Py_LOCAL",
    "PyAPI_FUNC",
    "PyAPI_DATA",
    "PyMODINIT_FUNC_TYPE",
];

fn is_id(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Byte offsets where `word` occurs as a whole identifier.
fn word_positions<'a>(text: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let b = text.as_bytes();
    text.match_indices(word).map(|(i, _)| i).filter(move |&i| {
        let before = i > 0 && is_id(b[i - 1]);
        let after = b.get(i + word.len()).copied().is_some_and(is_id);
        !before && !after
    })
}

/// Index just past a balanced `( ... )` starting at `j` (which must be `(`), on one line.
fn skip_parens(b: &[u8], mut j: usize) -> Option<usize> {
    let mut depth = 0;
    while j < b.len() {
        match b[j] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            b'\n' if depth > 1 => {}
            _ => {}
        }
        j += 1;
    }
    None
}

/// Every macro written as a statement or list element without its terminator.
fn terminated_macros() -> impl Iterator<Item = (&'static str, u8)> {
    capi::statement_macros()
        .map(|m| (m, b';'))
        .chain(TERMINATED_MACROS)
}

fn terminate_statement_macros(text: &str, bytes: &mut [u8]) {
    let b = text.as_bytes();
    for (word, terminator) in terminated_macros() {
        for i in word_positions(text, word) {
            let mut j = i + word.len();
            if b.get(j) == Some(&b'(') {
                match skip_parens(b, j) {
                    Some(k) => j = k,
                    None => continue,
                }
            }
            // A blank on the same line, before more code: use it.
            if matches!(b.get(j), Some(b' ' | b'\t')) {
                let mut k = j;
                while k < b.len() && (b[k] == b' ' || b[k] == b'\t') {
                    k += 1;
                }
                if k < b.len() && !matches!(b[k], b'\n' | b'\r' | b';' | b',' | b'/') {
                    bytes[j] = terminator;
                    continue;
                }
            }
            loop {
                while j < b.len() && (b[j] == b' ' || b[j] == b'\t' || b[j] == b'\r') {
                    j += 1;
                }
                if b[j..].starts_with(b"//") {
                    while j < b.len() && b[j] != b'\n' {
                        j += 1;
                    }
                } else if b[j..].starts_with(b"/*") {
                    match text[j + 2..].find("*/") {
                        Some(k) if !text[j..j + 2 + k].contains('\n') => j += k + 4,
                        _ => break,
                    }
                } else {
                    break;
                }
            }
            if b.get(j) != Some(&b'\n') {
                continue; // already terminated, or more code on the line
            }
            // The first indentation byte of the next non-empty line (blanked
            // directive lines count as indentation too).
            let mut k = j + 1;
            while matches!(bytes.get(k), Some(b'\n' | b'\r')) {
                k += 1;
            }
            if matches!(bytes.get(k), Some(b' ' | b'\t')) {
                bytes[k] = terminator;
            }
        }
    }
    for word in ANNOTATION_MACROS {
        for i in word_positions(text, word) {
            bytes[i..i + word.len()].fill(b' ');
        }
    }
    // `VISIBILITY PyMODINIT_FUNC PyInit_x(void)`: a macro before PyMODINIT_FUNC is
    // one type too many for the parser; blank it.
    for i in word_positions(text, "PyMODINIT_FUNC") {
        let line_start = text[..i].rfind('\n').map(|n| n + 1).unwrap_or(0);
        let before = text[line_start..i].trim_end();
        // Byte-wise: the identifier bytes are ASCII, so the byte after the last
        // non-identifier byte is always a character boundary (a non-ASCII letter
        // before the macro, `/* é */ PyMODINIT_FUNC`, once sliced a character).
        let word_start = before
            .bytes()
            .rposition(|c| !is_id(c))
            .map(|n| n + 1)
            .unwrap_or(0);
        let word = &before[word_start..];
        let is_macro_like = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if is_macro_like && word != "PyMODINIT_FUNC" {
            let at = line_start + word_start;
            bytes[at..at + word.len()].fill(b' ');
        }
    }
    for word in TYPE_WRAPPER_MACROS {
        for i in word_positions(text, word) {
            let j = i + word.len();
            if b.get(j) != Some(&b'(') {
                continue;
            }
            let Some(end) = skip_parens(b, j) else {
                continue;
            };
            bytes[i..=j].fill(b' ');
            bytes[end - 1] = b' ';
        }
    }
}

/// Object-like macros the file defines itself and uses as statements, such as
/// `_tkinter.c`'s `ENTER_TCL` (opens a block) and `LEAVE_TCL` (closes it). A use
/// alone on its line becomes `{` or `}` (padded with blanks to the same length)
/// when the body opens or closes braces, or gets a `;` when the body is balanced
/// but not terminated. Offsets stay the same; the macro name is lost only where
/// it stood for a brace.
fn apply_local_block_macros(text: &str, directives: &[Directive], bytes: &mut [u8]) {
    let b = text.as_bytes();
    for d in directives
        .iter()
        .filter(|d| d.kind == DirectiveKind::Define)
    {
        let name_len = d.arg.bytes().take_while(|c| is_id(*c)).count();
        let (name, body) = d.arg.split_at(name_len);
        if name.is_empty() || body.starts_with('(') {
            continue; // function-like
        }
        let body = body.trim();
        let delta = brace_delta(body);
        let needs_semicolon = delta == 0 && !body.is_empty() && !body.ends_with(';');
        if delta == 0 && !needs_semicolon || delta.unsigned_abs() as usize > name.len() {
            continue;
        }
        for i in word_positions(text, name) {
            let line_start = text[..i].rfind('\n').map(|n| n + 1).unwrap_or(0);
            let line_end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
            let after = text[i + name.len()..line_end].trim();
            let alone = text[line_start..i].trim().is_empty()
                && (after.is_empty() || after.starts_with("/*") || after.starts_with("//"));
            if !alone || bytes[i] != b[i] {
                continue; // not a statement use, or inside a blanked region
            }
            if delta == 0 {
                // A whole statement: its last letter becomes the `;` it lacks.
                if name.len() >= 2 {
                    bytes[i + name.len() - 1] = b';';
                }
                continue;
            }
            let brace = if delta > 0 { b'{' } else { b'}' };
            let n = delta.unsigned_abs() as usize;
            bytes[i..i + name.len()].fill(b' ');
            bytes[i..i + n].fill(brace);
        }
    }
}

fn brace_delta(s: &str) -> i64 {
    let l = super::lex::lex(s);
    let mut in_comment = l.comments.iter().peekable();
    let mut delta = 0i64;
    let mut skip_until = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if let Some(c) = in_comment.peek() {
            if i >= c.start {
                skip_until = c.end;
                in_comment.next();
            }
        }
        if i < skip_until {
            i += 1;
            continue;
        }
        match b[i] {
            b'{' => delta += 1,
            b'}' => delta -= 1,
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;

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

    #[test]
    fn masking_terminates_statement_and_list_macros() {
        let src = "static PyTypeObject T = {\n    PyVarObject_HEAD_INIT(NULL, 0)\n    \"m.T\",\n};\nvoid f(void) {\n    Py_BEGIN_ALLOW_THREADS\n\n    g();\n    Py_END_ALLOW_THREADS\n}\nstatic int XMLCALL h(void) { return 0; }\nPy_LOCAL_INLINE(int) k(void) { return 1; }\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(
            masked.contains("PyVarObject_HEAD_INIT(NULL, 0)\n,   \"m.T\""),
            "{masked}"
        );
        assert!(
            masked.contains("Py_BEGIN_ALLOW_THREADS\n\n;   g();"),
            "{masked}"
        );
        assert!(masked.contains("static int         h(void)"), "{masked}");
        assert!(masked.contains("                int  k(void)"), "{masked}");
    }

    #[test]
    fn masking_follows_the_files_own_block_macros() {
        let src = "#define ENTER { int t = 1; \\\n  g(t);\n#define LEAVE h(); }\n#define STEP k()\nvoid f(void) {\n    ENTER\n    x();\n    LEAVE\n    STEP\n    y();\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(
            masked.contains("    {    \n    x();\n    }    \n    STE;\n    y();"),
            "{masked}"
        );
    }

    #[test]
    fn masking_keeps_offsets() {
        let src = "#ifdef X\nint f(int a) {\n#else\nint f(long a) {\n#endif\n  return 0;\n}\n";
        let l = lex(src);
        let m = ConditionMap::build(&l.directives, src.len());
        let masked = mask_for_parsing(src, &l.directives, &m);
        assert_eq!(masked.len(), src.len());
        assert!(masked.contains("int f(int a) {"));
        assert!(!masked.contains("long"));
    }
}
