//! `windlass schema`: the JSON Schema of `windlass.yaml` for editors
//! (yaml-language-server). Environment overlays accept any subset of the base.

use serde_json::{Value, json};

use super::types::PlatformFile;

pub fn json_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(PlatformFile)).unwrap_or(Value::Null);
    // Overlays are partial: the same shapes as the base with nothing required.
    let mut partial_defs = serde_json::Map::new();
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            let mut d = def.clone();
            strip_required(&mut d);
            rename_refs(&mut d);
            partial_defs.insert(format!("Partial{name}"), d);
        }
    }
    if let Some(props) = schema.get("properties") {
        let mut platform = props.get("platform").cloned().unwrap_or(Value::Null);
        let mut apps = props.get("apps").cloned().unwrap_or(Value::Null);
        let mut observability = props.get("observability").cloned().unwrap_or(Value::Null);
        for v in [&mut platform, &mut apps, &mut observability] {
            strip_required(v);
            rename_refs(v);
        }
        let overlay = json!({
            "type": "object",
            "description": "An environment overlay: any subset of `platform` and `apps`; `null` removes a setting.",
            "additionalProperties": false,
            "properties": { "platform": platform, "apps": apps, "observability": observability },
        });
        partial_defs.insert("EnvironmentOverlay".to_string(), overlay);
    }
    if let Some(defs) = schema.get_mut("$defs").and_then(Value::as_object_mut) {
        defs.extend(partial_defs);
    }
    schema
}

fn strip_required(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("required");
            // A null in an overlay removes the setting, so every property also accepts null.
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for p in props.values_mut() {
                    strip_required(p);
                    *p = json!({ "anyOf": [p.clone(), { "type": "null" }] });
                }
            }
            for (k, child) in map.iter_mut() {
                if k != "properties" {
                    strip_required(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_required),
        _ => {}
    }
}

fn rename_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/$defs/Partial{name}");
            }
            map.values_mut().for_each(rename_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rename_refs),
        _ => {}
    }
}
