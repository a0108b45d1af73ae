//! `windlass diff`: what `up` would change, as the cluster crate plans it
//! (dry-run applies against the live objects, and what `up` would prune), shown
//! as a coloured unified diff or JSON. Exit 0 when nothing would change, 1 when something would.

use std::io::IsTerminal;

use windlass_cluster::{Action, Change};

use super::ExitStatus;
use super::cluster::{no_events, runtime, session, target};
use crate::cli::{DiffArgs, OutputFormat};
use crate::error::CliError;
use crate::output::print;

pub fn run(args: &DiffArgs) -> Result<ExitStatus, CliError> {
    let target = target(&args.spec, &args.selection.only)?;
    let changes = runtime()?.block_on(async {
        let session = session(&args.cluster, &target.platform, &target.plan, false, no_events()).await?;
        Ok::<_, CliError>(session.diff(&target.units, &target.plan.spec_units()).await?)
    })?;
    match args.output {
        OutputFormat::Json => print(&format!("{}\n", serde_json::json!({ "changes": changes })))?,
        OutputFormat::Text => print(&text(&changes, std::io::stdout().is_terminal()))?,
    }
    Ok(if changes.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
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
            Action::Update => {
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
            Action::Create => out.push_str(&format!("{}\n", paint("32", &format!("+ create {}", c.object)))),
            Action::Prune => out.push_str(&format!("{}\n", paint("31", &format!("- prune {}", c.object)))),
            Action::Conflict => out.push_str(&format!("! conflict {}: {}", c.object, c.diff)),
        }
    }
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    out.push_str(&format!(
        "{} to create, {} to update, {} to prune, {} conflicts\n",
        count(Action::Create),
        count(Action::Update),
        count(Action::Prune),
        count(Action::Conflict)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use windlass_core::unit::UnitId;

    fn change(action: Action, object: &str, diff: &str) -> Change {
        Change {
            unit: UnitId::app("shop", "web"),
            object: object.into(),
            action,
            diff: diff.into(),
        }
    }

    #[test]
    fn text_lists_each_change_and_counts_them() {
        let changes = [
            change(Action::Create, "ConfigMap/shop/a", ""),
            change(
                Action::Update,
                "Deployment/shop/web",
                "--- live\n+++ windlass\n-  image: a\n+  image: b\n",
            ),
            change(Action::Prune, "Service/shop/old", ""),
            change(
                Action::Conflict,
                "Deployment/shop/web",
                "field .spec.replicas is owned by hpa\n",
            ),
        ];
        assert_eq!(
            text(&changes, false),
            "+ create ConfigMap/shop/a\n--- live\n+++ windlass\n-  image: a\n+  image: b\n- prune Service/shop/old\n\
             ! conflict Deployment/shop/web: field .spec.replicas is owned by hpa\n\
             1 to create, 1 to update, 1 to prune, 1 conflicts\n"
        );
        assert_eq!(text(&[], false), "no changes\n");
    }
}
