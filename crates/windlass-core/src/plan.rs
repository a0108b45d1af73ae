//! The plan: which apps an invocation acts on (`--only app=NAME|tier=NAME`,
//! widened to their transitive `needs`) and the order they go in (a
//! dependency before its dependents; ties broken by name, so output is stable).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::diagnostics::did_you_mean;
use crate::model::Platform;

/// One `--only` selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    App(String),
    /// Any label of the app, e.g. `tier=frontend`.
    Label(String, String),
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some(("app", v)) if !v.is_empty() => Ok(Selector::App(v.to_string())),
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok(Selector::Label(k.to_string(), v.to_string())),
            _ => Err(format!(
                "`{s}` is not a selector; write `app=NAME` or `tier=NAME` (any app label)"
            )),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::App(a) => write!(f, "app={a}"),
            Selector::Label(k, v) => write!(f, "{k}={v}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("--only {selector}: no app matches{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    NothingSelected {
        selector: String,
        suggestion: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Selected app names in deploy order.
    pub apps: Vec<String>,
}

impl Plan {
    pub fn new(platform: &Platform, only: &[Selector]) -> Result<Plan, PlanError> {
        let mut chosen: BTreeSet<&str> = BTreeSet::new();
        if only.is_empty() {
            chosen.extend(platform.apps.iter().map(|a| a.name.as_str()));
        }
        for sel in only {
            let matched: Vec<&str> = platform
                .apps
                .iter()
                .filter(|a| match sel {
                    Selector::App(n) => a.name == *n,
                    Selector::Label(k, v) => a.labels.get(k) == Some(v),
                })
                .map(|a| a.name.as_str())
                .collect();
            if matched.is_empty() {
                let suggestion = match sel {
                    Selector::App(n) => {
                        did_you_mean(n, platform.apps.iter().map(|a| a.name.as_str())).map(|s| format!("app={s}"))
                    }
                    Selector::Label(k, v) => {
                        let values: BTreeSet<&str> = platform
                            .apps
                            .iter()
                            .filter_map(|a| a.labels.get(k))
                            .map(String::as_str)
                            .collect();
                        did_you_mean(v, values).map(|s| format!("{k}={s}"))
                    }
                };
                return Err(PlanError::NothingSelected {
                    selector: sel.to_string(),
                    suggestion,
                });
            }
            chosen.extend(matched);
        }
        // Widen to transitive needs.
        let mut stack: Vec<&str> = chosen.iter().copied().collect();
        while let Some(name) = stack.pop() {
            if let Some(app) = platform.app(name) {
                for n in &app.needs {
                    if chosen.insert(n.as_str()) {
                        stack.push(n.as_str());
                    }
                }
            }
        }
        Ok(Plan {
            apps: order(platform, &chosen),
        })
    }
}

/// Kahn's algorithm over the chosen apps; validation guarantees there is no cycle.
fn order(platform: &Platform, chosen: &BTreeSet<&str>) -> Vec<String> {
    let mut pending: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for app in platform.apps.iter().filter(|a| chosen.contains(a.name.as_str())) {
        let deps: BTreeSet<&str> = app
            .needs
            .iter()
            .map(String::as_str)
            .filter(|n| chosen.contains(n))
            .collect();
        for d in &deps {
            dependents.entry(d).or_default().push(&app.name);
        }
        pending.insert(&app.name, deps.len());
    }
    let mut ready: BTreeSet<&str> = pending.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
    let mut out = Vec::with_capacity(chosen.len());
    while let Some(next) = ready.pop_first() {
        out.push(next.to_string());
        pending.remove(next);
        for dependent in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            if let Some(count) = pending.get_mut(dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    // Anything left is in a cycle; validation rejects those, but never lose an app.
    out.extend(pending.keys().map(|k| (*k).to_string()));
    out
}
