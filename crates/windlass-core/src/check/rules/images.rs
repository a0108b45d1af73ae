//! Images: `latest` or no tag at all.

use serde_json::Value;

use super::{Ctx, Out, containers};

pub(crate) use crate::spec::names::split_image;

pub(super) fn run(cx: &Ctx<'_>, out: &mut Out<'_>) {
    for w in &cx.index.workloads {
        for c in containers(w) {
            let Some(image) = c.spec.get("image").and_then(Value::as_str) else {
                continue;
            };
            let (_, tag, digest) = split_image(image);
            let problem = match (tag, digest) {
                (_, Some(_)) => None,
                (None, None) => Some("has no tag: it means `latest`"),
                (Some("latest"), None) => Some("uses the moving `latest` tag"),
                _ => None,
            };
            if let Some(p) = problem {
                out.report(
                    w.index,
                    "image-tag-latest",
                    c.path.key("image"),
                    format!("container `{}`: image `{image}` {p}", c.name),
                );
            }
        }
    }
}
