//! [`Condition`] formulas over `#if` expressions and their three-valued
//! evaluation ([`Truth`]) against a [`BuildConfig`].

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc as Rc;

use super::config::{BuildConfig, MacroState};

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

/// The value of a constant expression in `cfg`, when every macro in it is known.
pub(super) fn const_value(e: &PExpr, cfg: &BuildConfig) -> Option<i64> {
    value(e, cfg)
}

fn value(e: &PExpr, cfg: &BuildConfig) -> Option<i64> {
    match e {
        PExpr::Int(v) => Some(*v),
        PExpr::Ident(name) => match cfg
            .macros
            .get(name.as_str())
            .or_else(|| cfg.local.get(name.as_str()))
        {
            Some(MacroState::Defined(v)) => *v,
            // An undefined identifier in #if evaluates to 0.
            Some(MacroState::Undefined) => Some(0),
            None => None,
        },
        PExpr::Defined(name) => match cfg
            .macros
            .get(name.as_str())
            .or_else(|| cfg.local.get(name.as_str()))
        {
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
