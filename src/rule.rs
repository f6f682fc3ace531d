//! What a rule *is*, independent of how it is checked: code, name, severity,
//! documentation, fix availability and family.
//!
//! This is a leaf module: the C/C++ model, the settings, the diagnostics and the
//! reporters all name rules, so rule metadata must depend on nothing of theirs.
//! The list of rules and their checks is [`crate::rules::registry`].

use serde::Serialize;

/// How bad a finding is. Maps to SARIF levels and to the `severity` JSON field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a rule can fix what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    /// Applied by `--fix`.
    Safe,
    /// Applied only with `--unsafe-fixes`.
    Unsafe,
    /// Some findings have a fix; which kind is said per finding.
    Sometimes,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Safe => "safe",
            FixAvailability::Unsafe => "unsafe",
            FixAvailability::Sometimes => "sometimes",
        }
    }
}

/// Static facts about one rule. `doc` is the single source of `ftaudit rule CODE`,
/// `docs/rules.md`, the README's rule table and the SARIF rule help.
///
/// Rules are compared by identity (their code is unique, which the registry test
/// checks), never by spelling a code as a string: `d.rule == &ft001::RULE`.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown with the sections *What it does*, *Why is this bad?*, *Example*,
    /// *Use instead*, *References*.
    pub doc: &'static str,
    pub fix: FixAvailability,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.code == other.code
    }
}

impl Eq for Rule {}

impl Rule {
    /// The family this rule belongs to (by its code's first digit).
    pub fn family(&self) -> Option<&'static Family> {
        FAMILIES.iter().find(|f| self.code.starts_with(f.prefix))
    }
}

/// A group of rules sharing a code prefix (`FT1` = borrowed references).
#[derive(Debug)]
pub struct Family {
    pub prefix: &'static str,
    pub title: &'static str,
}

/// The families, in code order.
pub const FAMILIES: [Family; 10] = [
    Family {
        prefix: "FT0",
        title: "Declaring free-threading support",
    },
    Family {
        prefix: "FT1",
        title: "Borrowed references",
    },
    Family {
        prefix: "FT2",
        title: "Unlocked access",
    },
    Family {
        prefix: "FT3",
        title: "Locks and thread state",
    },
    Family {
        prefix: "FT4",
        title: "Shared state",
    },
    Family {
        prefix: "FT5",
        title: "Memory domains",
    },
    Family {
        prefix: "FT6",
        title: "Build and packaging",
    },
    Family {
        prefix: "FT7",
        title: "Built binaries",
    },
    Family {
        prefix: "FT8",
        title: "Runtime",
    },
    Family {
        prefix: "FT9",
        title: "ftaudit itself",
    },
];
