//! Findings as text for a person, JSON for scripts, SARIF 2.1.0 for
//! code-scanning UIs and JUnit XML for CI test reports. Pure: strings in, a
//! string out; the command decides where it goes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Finding, RULES, Severity};

/// Where an object (or a field of it) was read from. `line` 0: not from a file (a live cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Place {
    /// Not from a file: an object of a live cluster.
    pub fn live() -> Place {
        Place {
            file: String::new(),
            line: 0,
            column: 0,
        }
    }

    fn text(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// A finding with where it was written.
#[derive(Debug, Clone)]
pub struct Entry {
    pub finding: Finding,
    pub place: Place,
}

/// Everything one run looked at and found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every object checked, `Kind/namespace/name` and where it starts, in input order.
    pub objects: Vec<(String, Place)>,
    pub entries: Vec<Entry>,
}

impl Report {
    pub fn count(&self, s: Severity) -> usize {
        self.entries.iter().filter(|e| e.finding.severity == s).count()
    }

    /// The highest severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.entries.iter().map(|e| e.finding.severity).max()
    }

    pub fn summary(&self) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}, {} in {} checked",
            plural(self.count(Severity::Error), "error"),
            plural(self.count(Severity::Warning), "warning"),
            plural(self.count(Severity::Info), "note"),
            plural(self.objects.len(), "object"),
        )
    }
}

/// Grouped by object, in input order: the object, then each finding with its
/// location, severity, rule, message and fix.
pub fn text(r: &Report, color: bool) -> String {
    let paint = |s: Severity, t: &str| {
        if !color {
            return t.to_string();
        }
        let code = match s {
            Severity::Error => "31",
            Severity::Warning => "33",
            Severity::Info => "36",
        };
        format!("\x1b[{code}m{t}\x1b[0m")
    };
    let mut groups: BTreeMap<usize, Vec<&Entry>> = BTreeMap::new();
    for e in &r.entries {
        groups.entry(e.finding.index).or_default().push(e);
    }
    let mut out = String::new();
    for entries in groups.values() {
        let first = entries[0];
        let _ = writeln!(out, "{}", first.finding.object);
        for e in entries {
            let f = &e.finding;
            let place = e.place.text();
            let _ = writeln!(
                out,
                "  {}{}{:<7}  {}  {}: {}",
                place,
                if place.is_empty() { "" } else { "  " },
                paint(f.severity, f.severity.as_str()),
                f.rule,
                f.path,
                f.message
            );
            let _ = writeln!(out, "      fix: {}", f.rule().fix);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", r.summary());
    out
}

fn entry_json(e: &Entry) -> Value {
    let f = &e.finding;
    json!({
        "rule": f.rule,
        "severity": f.severity,
        "object": f.object,
        "file": e.place.file,
        "line": e.place.line,
        "column": e.place.column,
        "path": f.path.to_string(),
        "message": f.message,
        "why": f.rule().why,
        "fix": f.rule().fix,
    })
}

pub fn json(r: &Report) -> String {
    let v = json!({
        "findings": r.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "summary": {
            "objects": r.objects.len(),
            "error": r.count(Severity::Error),
            "warning": r.count(Severity::Warning),
            "info": r.count(Severity::Info),
        },
    });
    format!("{v:#}\n")
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference (SARIF's `artifactLocation.uri`).
fn uri(file: &str) -> String {
    let mut out = String::new();
    for b in file.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// SARIF 2.1.0: one run, every rule described, each result at its region.
pub fn sarif(r: &Report, version: &str) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "shortDescription": {"text": rule.why},
                "help": {"text": rule.fix},
                "defaultConfiguration": {"level": level(rule.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = r
        .entries
        .iter()
        .map(|e| {
            let f = &e.finding;
            let mut location = json!({"logicalLocations": [{"fullyQualifiedName": f.object, "kind": "object"}]});
            if !e.place.file.is_empty() {
                let mut physical = json!({"artifactLocation": {"uri": uri(&e.place.file)}});
                if e.place.line > 0 {
                    physical["region"] = json!({"startLine": e.place.line, "startColumn": e.place.column.max(1)});
                }
                location["physicalLocation"] = physical;
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": RULES.iter().position(|x| x.id == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": format!("{}: {} (fix: {})", f.path, f.message, f.rule().fix)},
                "locations": [location],
            })
        })
        .collect();
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "windlass",
                "version": version,
                "informationUri": "https://windlass.dev",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!("{v:#}\n")
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a test case per finding (failed) and one per clean object (passed).
pub fn junit(r: &Report) -> String {
    let mut cases = String::new();
    let mut with_findings = std::collections::BTreeSet::new();
    for e in &r.entries {
        with_findings.insert(e.finding.index);
    }
    for e in &r.entries {
        let f = &e.finding;
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{} {}\" file=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}: {}: {}\nfix: {}</failure>\n    </testcase>\n",
            xml(&e.place.file),
            xml(&f.object),
            f.rule,
            xml(&e.place.file),
            f.severity.as_str(),
            xml(&f.message),
            xml(&e.place.text()),
            xml(&f.path.to_string()),
            xml(&f.message),
            xml(f.rule().fix),
        );
    }
    for (i, (id, place)) in r.objects.iter().enumerate() {
        if !with_findings.contains(&i) {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"/>",
                xml(&place.file),
                xml(id),
                xml(&place.file)
            );
        }
    }
    let tests = r.entries.len() + r.objects.len() - with_findings.len();
    let failures = r.entries.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"windlass\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n  <testsuite name=\"windlass check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n</testsuites>\n"
    )
}

/// The namespace in a `Kind/namespace/name` id, `(cluster)` for cluster-scoped objects.
fn namespace_of(object: &str) -> &str {
    let parts: Vec<&str> = object.splitn(3, '/').collect();
    if parts.len() == 3 { parts[1] } else { "(cluster)" }
}

/// One self-contained page (no script, no external resource): the summary,
/// then the findings by severity and namespace, each with its why and fix.
pub fn html(r: &Report, title: &str, subtitle: &str) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<header><h1>{}</h1><p class=\"sub\">{}</p><div class=\"summary\">",
        xml(title),
        xml(subtitle)
    );
    for s in [Severity::Error, Severity::Warning, Severity::Info] {
        let _ = write!(
            body,
            "<div class=\"count {0}\"><span class=\"n\" id=\"count-{0}\">{1}</span> {0}</div>",
            s.as_str(),
            r.count(s)
        );
    }
    let _ = write!(
        body,
        "<div class=\"count objects\"><span class=\"n\">{}</span> objects</div></div></header>",
        r.objects.len()
    );
    if r.entries.is_empty() {
        body.push_str("<p class=\"clean\">Nothing found.</p>");
    }
    for s in [Severity::Error, Severity::Warning, Severity::Info] {
        let mut by_ns: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in r.entries.iter().filter(|e| e.finding.severity == s) {
            by_ns.entry(namespace_of(&e.finding.object)).or_default().push(e);
        }
        if by_ns.is_empty() {
            continue;
        }
        let _ = write!(body, "<section class=\"{0}\"><h2>{0}</h2>", s.as_str());
        for (ns, entries) in by_ns {
            let _ = write!(
                body,
                "<h3>{}</h3><table><tr><th>object</th><th>rule</th><th>finding</th><th>fix</th></tr>",
                xml(ns)
            );
            for e in entries {
                let f = &e.finding;
                let _ = write!(
                    body,
                    "<tr class=\"finding\" data-rule=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}<div class=\"why\">{}</div></td><td>{}</td></tr>",
                    f.rule,
                    xml(&f.object),
                    f.rule,
                    xml(&f.message),
                    xml(f.rule().why),
                    xml(f.rule().fix)
                );
            }
            body.push_str("</table>");
        }
        body.push_str("</section>");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{}</style></head><body>{}</body></html>\n",
        xml(title),
        STYLE,
        body
    )
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1f24;padding:0 1em}\
h1{margin:0}.sub{color:#57606a;margin:.2em 0 1em}.summary{display:flex;gap:1em;margin-bottom:1.5em}\
.count{border-radius:6px;padding:.6em 1em;background:#f6f8fa;font-weight:600}.count .n{font-size:1.6em;margin-right:.2em}\
.count.error{background:#ffebe9;color:#a40e26}.count.warning{background:#fff8c5;color:#7d4e00}.count.info{background:#ddf4ff;color:#0550ae}\
h2{text-transform:capitalize;border-bottom:2px solid #d0d7de}section.error h2{color:#a40e26}section.warning h2{color:#7d4e00}section.info h2{color:#0550ae}\
table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{text-align:left;vertical-align:top;padding:.4em .6em;border-bottom:1px solid #d0d7de}\
th{background:#f6f8fa}.why{color:#57606a;font-size:.9em;margin-top:.2em}code{font-size:.9em}.clean{font-size:1.2em;color:#1a7f37}";
