//! `windlass diff`: what `up` would change. Each object is server-side applied as
//! a dry run and compared with the live object (managedFields, status and
//! bookkeeping stripped); objects to create and to prune are listed too.
//! Exit 0 when nothing would change, 1 when something would.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::process::ExitCode;

use serde_json::Value;
use similar::TextDiff;
use windlass_cluster::ClusterError;
use windlass_cluster::inventory::{self, ObjectRef};
use windlass_core::render::{Object, to_yaml};

use super::units::{runtime, session, target};
use crate::cli::{DiffArgs, OutputFormat};
use crate::error::CliError;
use crate::output::print;

#[derive(Debug, serde::Serialize)]
struct Change {
    object: String,
    action: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    diff: String,
}

pub fn run(args: &DiffArgs) -> Result<ExitCode, CliError> {
    let target = target(&args.spec, &args.selection.only)?;
    let changes = runtime()?.block_on(async {
        let session = session(&args.cluster, &target.platform, false).await?;
        let mut changes = Vec::new();
        for unit in &target.units {
            let history = session.store.load(&unit.id).await?;
            let id = history.applyset_id();
            let mut keep = BTreeSet::new();
            for o in &unit.objects {
                let mut o = o.clone();
                inventory::mark(&mut o, &id);
                let r = ObjectRef::of(&o);
                keep.insert(r.clone());
                let live = session.applier.get(&r).await?;
                let dry = match session.applier.apply(&o, true).await {
                    Ok(d) => d,
                    Err(ClusterError::Conflict { conflicts, .. }) => {
                        changes.push(Change {
                            object: r.to_string(),
                            action: "conflict",
                            diff: conflicts
                                .iter()
                                .map(|c| format!("field {} is owned by {}\n", c.field, c.manager))
                                .collect(),
                        });
                        continue;
                    }
                    Err(e) => return Err(CliError::from(e)),
                };
                let Some(live) = live else {
                    changes.push(Change {
                        object: r.to_string(),
                        action: "create",
                        diff: String::new(),
                    });
                    continue;
                };
                let (before, after) = (comparable(&live), comparable(&dry));
                if before != after {
                    let diff = TextDiff::from_lines(&before, &after)
                        .unified_diff()
                        .context_radius(3)
                        .header(&format!("live {r}"), &format!("windlass {r}"))
                        .to_string();
                    changes.push(Change {
                        object: r.to_string(),
                        action: "update",
                        diff,
                    });
                }
            }
            for r in history.all_refs().into_iter().filter(|r| !keep.contains(r)) {
                if owned_live(&session, &r, &id).await? {
                    changes.push(prune(&r));
                }
            }
        }
        // Units the spec no longer has are pruned whole by `up`.
        for history in session.store.list().await? {
            if target.spec_units.contains(&history.unit) {
                continue;
            }
            let id = history.applyset_id();
            for r in history.all_refs() {
                if owned_live(&session, &r, &id).await? {
                    changes.push(prune(&r));
                }
            }
        }
        Ok::<_, CliError>(changes)
    })?;
    match args.output {
        OutputFormat::Json => print(&format!("{}\n", serde_json::json!({ "changes": changes })))?,
        OutputFormat::Text => print(&text(&changes, std::io::stdout().is_terminal()))?,
    }
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn prune(r: &ObjectRef) -> Change {
    Change {
        object: r.to_string(),
        action: "prune",
        diff: String::new(),
    }
}

async fn owned_live(session: &super::units::Session, r: &ObjectRef, id: &str) -> Result<bool, CliError> {
    Ok(match session.applier.get(r).await? {
        Some(live) => inventory::owned_by(&serde_json::to_value(&live).unwrap_or_default(), id),
        None => false,
    })
}

/// The object as YAML without what the apiserver keeps for itself.
fn comparable(obj: &impl serde::Serialize) -> String {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    to_yaml(&Object(v))
}

fn text(changes: &[Change], colour: bool) -> String {
    if changes.is_empty() {
        return "no changes\n".to_string();
    }
    let paint = |code: &str, s: &str| {
        if colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for c in changes {
        match c.action {
            "update" => {
                for l in c.diff.lines() {
                    let l = if l.starts_with("+++") || l.starts_with("---") {
                        paint("1", l)
                    } else if l.starts_with('+') {
                        paint("32", l)
                    } else if l.starts_with('-') {
                        paint("31", l)
                    } else if l.starts_with("@@") {
                        paint("36", l)
                    } else {
                        l.to_string()
                    };
                    out.push_str(&l);
                    out.push('\n');
                }
            }
            "create" => out.push_str(&format!("{}\n", paint("32", &format!("+ create {}", c.object)))),
            "prune" => out.push_str(&format!("{}\n", paint("31", &format!("- prune {}", c.object)))),
            _ => out.push_str(&format!("! conflict {}: {}", c.object, c.diff)),
        }
    }
    let count = |a: &str| changes.iter().filter(|c| c.action == a).count();
    out.push_str(&format!(
        "{} to create, {} to update, {} to prune, {} conflicts\n",
        count("create"),
        count("update"),
        count("prune"),
        count("conflict")
    ));
    out
}
