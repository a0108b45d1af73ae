//! `windlass secrets` against the real tools the test bed provides: sops (built from
//! its Go module), age and age-keygen, and gpg for the PGP migration. Files made by
//! either side open with the other, an edit by either keeps the other's MAC valid,
//! multi-recipient and rotated files work, tampering is refused by both, and a
//! GPG-encrypted sops file moves to age. Needs the bed's binaries only, not its
//! control plane: tools are found by `windlass_testbed::paths::tools` (skip without
//! them, fail under WINDLASS_REQUIRE_TESTBED=1).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use windlass_sops::{EncryptedFile, Entry, Format, ListItem, PlainDocument, Value};
use windlass_testbed::paths;

/// Plaintext with comments, every scalar type, nested lists and maps, a value
/// sops leaves plain (`_unencrypted`), an empty string and a null.
const PLAIN_YAML: &str = "\
# database credentials
db:
    user: app # inline note
    password: s3cr3t-canary
    port: 5432
    ratio: 0.75
    tls: true
    since: 2024-06-01
    hosts:
        - db-0.internal
        # the replica
        - db-1.internal
        - name: extra
          weight: 2
    region_unencrypted: eu-west-1
empty: \"\"
nothing: null
pem: |
    -----BEGIN CERTIFICATE-----
    MIIB
    -----END CERTIFICATE-----
# trailing comment
";

const PLAIN_JSON: &str = r#"{"token": "s3cr3t-canary", "n": 3, "ratio": 1.5, "on": false, "list": [1, "two", {"x": null}], "nested": {"a": {"b": "c"}}}"#;

struct Tools {
    sops: PathBuf,
    age: PathBuf,
    age_keygen: PathBuf,
}

fn tools() -> Option<Tools> {
    let [sops, age, age_keygen] = paths::tools(["sops", "age", "age-keygen"])?;
    Some(Tools { sops, age, age_keygen })
}

/// A scratch directory with age keys made by the real age-keygen.
struct Scene {
    dir: tempfile::TempDir,
    tools: Tools,
}

struct Key {
    file: PathBuf,
    recipient: String,
}

fn check(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

impl Scene {
    fn new() -> Option<Scene> {
        Some(Scene {
            dir: tempfile::tempdir().expect("tempdir"),
            tools: tools()?,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, text).expect("write");
        p
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).expect("read")
    }

    fn key(&self, name: &str) -> Key {
        let file = self.path(name);
        check(
            &Command::new(&self.tools.age_keygen)
                .arg("-o")
                .arg(&file)
                .output()
                .expect("age-keygen"),
            "age-keygen",
        );
        let recipient = check(
            &Command::new(&self.tools.age_keygen)
                .arg("-y")
                .arg(&file)
                .output()
                .expect("age-keygen -y"),
            "age-keygen -y",
        )
        .trim()
        .to_string();
        Key { file, recipient }
    }

    /// The real sops, with one age key file and no user configuration.
    fn sops(&self, key: &Key) -> Command {
        let mut cmd = Command::new(&self.tools.sops);
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("SOPS_AGE_KEY_FILE", &key.file)
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_CMD")
            .env_remove("GNUPGHOME");
        cmd
    }

    /// windlass, with one age key file and no user configuration.
    fn windlass(&self, key: &Key) -> Command {
        let mut cmd = Command::new(common::windlass_binary());
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_RUNTIME_DIR", self.dir.path())
            .env("SOPS_AGE_KEY_FILE", &key.file)
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_CMD")
            .env_remove("WINDLASS_SOPS_PGP_KEY_FILE");
        cmd.arg("secrets");
        cmd
    }

    /// An editor script for `sops edit` / `windlass secrets edit`.
    fn editor(&self, name: &str, body: &str) -> PathBuf {
        let p = self.write(name, &format!("#!/bin/sh\nset -e\n{body}\n"));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }
}

/// The data of a document without its comments (which sops may move around).
fn data(doc: &[Entry]) -> Vec<Entry> {
    fn value(v: &Value) -> Value {
        match v {
            Value::Map(entries) => Value::Map(data(entries)),
            Value::List(items) => Value::List(
                items
                    .iter()
                    .filter_map(|i| match i {
                        ListItem::Value(v) => Some(ListItem::Value(value(v))),
                        ListItem::Comment(_) => None,
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    doc.iter()
        .filter_map(|e| match e {
            Entry::Pair(k, v) => Some(Entry::Pair(k.clone(), value(v))),
            Entry::Comment(_) => None,
        })
        .collect()
}

/// Every comment's text, in order.
fn comments(doc: &[Entry]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Map(entries) => entries.iter().for_each(|e| match e {
                Entry::Comment(c) => out.push(c.text.clone()),
                Entry::Pair(_, v) => walk(v, out),
            }),
            Value::List(items) => items.iter().for_each(|i| match i {
                ListItem::Comment(c) => out.push(c.text.clone()),
                ListItem::Value(v) => walk(v, out),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&Value::Map(doc.to_vec()), &mut out);
    out
}

fn parse(format: Format, text: &str) -> Vec<Entry> {
    PlainDocument::parse(format, text)
        .expect("plaintext parses")
        .documents()[0]
        .clone()
}

/// The typed data of `PLAIN_YAML` after a timestamp went through Go's time type.
fn expected_yaml() -> Vec<Entry> {
    parse(
        Format::Yaml,
        &PLAIN_YAML.replace("since: 2024-06-01", "since: 2024-06-01T00:00:00Z"),
    )
}

#[test]
fn files_windlass_encrypts_open_with_sops_and_age() {
    let Some(scene) = Scene::new() else { return };
    let (a, b) = (scene.key("a.txt"), scene.key("b.txt"));
    scene.write("plain.yaml", PLAIN_YAML);
    scene.write("plain.json", PLAIN_JSON);
    let both = format!("{},{}", a.recipient, b.recipient);
    for (plain, enc) in [("plain.yaml", "w.enc.yaml"), ("plain.json", "w.enc.json")] {
        let out = scene
            .windlass(&a)
            .args(["encrypt", "--age", &both, plain, "-o", enc])
            .output()
            .expect("windlass");
        check(&out, "windlass secrets encrypt");
        assert!(!scene.read(enc).contains("s3cr3t-canary"));
    }
    // Either recipient opens them with sops.
    for key in [&a, &b] {
        let yaml = check(
            &scene.sops(key).args(["-d", "w.enc.yaml"]).output().expect("sops"),
            "sops -d yaml",
        );
        assert_eq!(data(&parse(Format::Yaml, &yaml)), data(&expected_yaml()), "{yaml}");
        // sops decrypted windlass's encrypted comments (it keeps ones it cannot decrypt as ENC[...]).
        assert_eq!(
            comments(&parse(Format::Yaml, &yaml)).len(),
            comments(&expected_yaml()).len(),
            "{yaml}"
        );
        assert!(!yaml.contains("ENC["), "every comment decrypted by sops: {yaml}");
        let json = check(
            &scene.sops(key).args(["-d", "w.enc.json"]).output().expect("sops"),
            "sops -d json",
        );
        assert_eq!(parse(Format::Json, &json), parse(Format::Json, PLAIN_JSON), "{json}");
        let one = check(
            &scene
                .sops(key)
                .args(["-d", "--extract", r#"["db"]["port"]"#, "w.enc.yaml"])
                .output()
                .expect("sops"),
            "sops --extract",
        );
        assert_eq!(one, "5432\n", "sops prints a non-string value as YAML");
    }
    // The armored data key entries are real age files: age itself opens them.
    let file = EncryptedFile::parse(Format::Yaml, &scene.read("w.enc.yaml")).expect("parses");
    let entries = &file.metadata().key_groups[0].age;
    assert_eq!(entries.len(), 2);
    scene.write("datakey.age", &entries[0].enc);
    let out = Command::new(&scene.tools.age)
        .args(["-d", "-i"])
        .arg(&a.file)
        .arg(scene.path("datakey.age"))
        .output()
        .expect("age -d");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), 32, "the data key is 32 bytes");
}

#[test]
fn files_sops_encrypts_open_with_windlass() {
    let Some(scene) = Scene::new() else { return };
    let (a, b) = (scene.key("a.txt"), scene.key("b.txt"));
    scene.write("plain.yaml", PLAIN_YAML);
    scene.write("plain.json", PLAIN_JSON);
    let both = format!("{},{}", a.recipient, b.recipient);
    for (plain, enc) in [("plain.yaml", "s.enc.yaml"), ("plain.json", "s.enc.json")] {
        let out = scene
            .sops(&a)
            .args(["-e", "--age", &both, plain])
            .output()
            .expect("sops -e");
        scene.write(enc, &check(&out, "sops -e"));
    }
    for key in [&a, &b] {
        let yaml = check(
            &scene
                .windlass(key)
                .args(["decrypt", "s.enc.yaml"])
                .output()
                .expect("windlass"),
            "windlass decrypt",
        );
        let doc = parse(Format::Yaml, &yaml);
        assert_eq!(data(&doc), data(&expected_yaml()), "{yaml}");
        assert_eq!(
            comments(&doc),
            comments(&expected_yaml()),
            "sops's encrypted comments decrypted in place"
        );
        let json = check(
            &scene
                .windlass(key)
                .args(["decrypt", "s.enc.json"])
                .output()
                .expect("windlass"),
            "windlass decrypt",
        );
        assert_eq!(parse(Format::Json, &json), parse(Format::Json, PLAIN_JSON), "{json}");
    }
    let out = scene
        .windlass(&a)
        .args(["keys", "s.enc.yaml"])
        .output()
        .expect("windlass keys");
    let listed = check(&out, "windlass keys");
    assert!(
        listed.contains(&a.recipient) && listed.contains(&b.recipient) && listed.contains("open it: yes"),
        "{listed}"
    );
}

#[test]
fn an_edit_by_either_tool_keeps_the_other_tools_mac_valid() {
    let Some(scene) = Scene::new() else { return };
    let a = scene.key("a.txt");
    scene.write("plain.yaml", PLAIN_YAML);

    // windlass encrypts; sops sets a value and edits another; windlass opens the result.
    check(
        &scene
            .windlass(&a)
            .args(["encrypt", "--age", &a.recipient, "plain.yaml", "-o", "f.yaml"])
            .output()
            .expect("w"),
        "windlass encrypt",
    );
    check(
        &scene
            .sops(&a)
            .args(["set", "f.yaml", r#"["db"]["user"]"#, r#""admin""#])
            .output()
            .expect("sops set"),
        "sops set",
    );
    let sed = scene.editor("sops-ed.sh", "sed -i 's/port: 5432/port: 6543/' \"$1\"");
    check(
        &scene
            .sops(&a)
            .env("EDITOR", &sed)
            .args(["edit", "f.yaml"])
            .output()
            .expect("sops edit"),
        "sops edit",
    );
    let user = check(
        &scene
            .windlass(&a)
            .args(["decrypt", "--extract", r#"["db"]["user"]"#, "f.yaml"])
            .output()
            .expect("w"),
        "windlass decrypt after sops set",
    );
    assert_eq!(user, "admin");
    let port = check(
        &scene
            .windlass(&a)
            .args(["decrypt", "--extract", r#"["db"]["port"]"#, "f.yaml"])
            .output()
            .expect("w"),
        "windlass decrypt after sops edit",
    );
    assert_eq!(port, "6543\n");

    // sops encrypts; windlass edits; sops opens the result, and only the edited value changed.
    let out = scene
        .sops(&a)
        .args(["-e", "--age", &a.recipient, "plain.yaml"])
        .output()
        .expect("sops -e");
    scene.write("g.yaml", &check(&out, "sops -e"));
    let before = scene.read("g.yaml");
    let ed = scene.editor("w-ed.sh", "sed -i 's/tls: true/tls: false/' \"$1\"");
    let out = scene
        .windlass(&a)
        .env("EDITOR", &ed)
        .args(["edit", "g.yaml"])
        .output()
        .expect("windlass edit");
    check(&out, "windlass secrets edit");
    let tls = check(
        &scene
            .sops(&a)
            .args(["-d", "--extract", r#"["db"]["tls"]"#, "g.yaml"])
            .output()
            .expect("sops -d"),
        "sops -d after windlass edit",
    );
    assert_eq!(tls, "false\n", "sops prints a non-string value as YAML");
    let after = scene.read("g.yaml");
    let changed: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    assert!(changed[0].trim_start().starts_with("tls: ENC["), "{changed:?}");
    assert!(
        changed[1..]
            .iter()
            .all(|l| l.trim_start().starts_with("mac: ") || l.trim_start().starts_with("lastmodified: ")),
        "a windlass edit of a sops file changes the edited value, the MAC and lastmodified only: {changed:?}"
    );
}

#[test]
fn rotated_files_open_with_the_other_tool() {
    let Some(scene) = Scene::new() else { return };
    let (a, b) = (scene.key("a.txt"), scene.key("b.txt"));
    scene.write("plain.yaml", PLAIN_YAML);
    let out = scene
        .sops(&a)
        .args(["-e", "--age", &a.recipient, "plain.yaml"])
        .output()
        .expect("sops -e");
    scene.write("r.yaml", &check(&out, "sops -e"));
    // windlass moves the file from A to B.
    let out = scene
        .windlass(&a)
        .args(["rotate", "r.yaml", "--add-age", &b.recipient, "--rm-age", &a.recipient])
        .output()
        .expect("windlass rotate");
    check(&out, "windlass rotate");
    let yaml = check(
        &scene.sops(&b).args(["-d", "r.yaml"]).output().expect("sops -d"),
        "sops -d with B",
    );
    assert_eq!(data(&parse(Format::Yaml, &yaml)), data(&expected_yaml()));
    let refused = scene.sops(&a).args(["-d", "r.yaml"]).output().expect("sops -d");
    assert!(!refused.status.success(), "A was removed, sops must refuse it");
    // sops rotates a windlass file (new data key, A added back); windlass opens it with A.
    let out = scene
        .sops(&b)
        .args(["rotate", "-i", "--add-age", &a.recipient, "r.yaml"])
        .output()
        .expect("sops rotate");
    check(&out, "sops rotate");
    let yaml = check(
        &scene.windlass(&a).args(["decrypt", "r.yaml"]).output().expect("w"),
        "windlass decrypt after sops rotate",
    );
    assert_eq!(data(&parse(Format::Yaml, &yaml)), data(&expected_yaml()));
}

#[test]
fn tampered_values_and_macs_are_refused_by_windlass_as_by_sops() {
    let Some(scene) = Scene::new() else { return };
    let a = scene.key("a.txt");
    scene.write("plain.yaml", PLAIN_YAML);
    let out = scene
        .sops(&a)
        .args(["-e", "--age", &a.recipient, "plain.yaml"])
        .output()
        .expect("sops -e");
    let text = check(&out, "sops -e");

    // The file with the first ciphertext byte of the line starting `prefix` changed.
    let tampered = |prefix: &str| {
        let line = text.lines().find(|l| l.trim_start().starts_with(prefix)).expect(prefix);
        let at = line.find("data:").expect("data") + 5;
        let mut bytes = line.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        text.replace(line, std::str::from_utf8(&bytes).expect("utf-8"))
    };
    scene.write("value.yaml", &tampered("password: ENC["));
    scene.write("mac.yaml", &tampered("mac: ENC["));

    let replicas = text
        .lines()
        .find(|l| l.trim_start().starts_with("port: ENC["))
        .expect("port");
    scene.write("removed.yaml", &text.replace(&format!("{replicas}\n"), ""));

    for (file, message) in [
        ("value.yaml", "the value at [\"db\"][\"password\"] does not decrypt"),
        ("mac.yaml", "the MAC does not decrypt"),
        ("removed.yaml", "MAC mismatch"),
    ] {
        let sops = scene.sops(&a).args(["-d", file]).output().expect("sops -d");
        assert!(!sops.status.success(), "sops must refuse {file} too");
        let out = scene.windlass(&a).args(["decrypt", file]).output().expect("windlass");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: no plaintext on a refusal");
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert!(!stderr.contains("s3cr3t-canary"), "{stderr}");
    }
}

/// gpg with a throwaway home; its agent is stopped when the test ends.
struct Gpg {
    gpg: PathBuf,
    home: tempfile::TempDir,
}

impl Gpg {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.gpg);
        cmd.env("GNUPGHOME", self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]);
        cmd
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        if let Some(gpgconf) = paths::tool("gpgconf") {
            let _ = Command::new(gpgconf)
                .env("GNUPGHOME", self.home.path())
                .args(["--kill", "all"])
                .output();
        }
    }
}

#[test]
fn a_gpg_encrypted_sops_file_moves_to_age() {
    let Some(scene) = Scene::new() else { return };
    let Some([gpg]) = paths::tools(["gpg"]) else { return };
    // A short path: gpg-agent's socket path must fit in a sockaddr.
    let gpg = Gpg {
        gpg,
        home: tempfile::Builder::new()
            .prefix("wgpg")
            .tempdir_in("/tmp")
            .expect("gnupg home"),
    };
    fs::set_permissions(gpg.home.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    check(
        &gpg.command()
            .args([
                "--quick-gen-key",
                "windlass interop <interop@example.invalid>",
                "default",
                "default",
                "never",
            ])
            .output()
            .expect("gpg --quick-gen-key"),
        "gpg --quick-gen-key",
    );
    let listing = check(
        &gpg.command()
            .args(["--list-secret-keys", "--with-colons"])
            .output()
            .expect("gpg --list"),
        "gpg --list-secret-keys",
    );
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
        .expect("a fingerprint");
    let armored = check(
        &gpg.command()
            .args(["--armor", "--export-secret-keys", &fingerprint])
            .output()
            .expect("gpg --export"),
        "gpg --export-secret-keys",
    );
    scene.write("secret.asc", &armored);

    let a = scene.key("a.txt");
    scene.write("plain.yaml", PLAIN_YAML);
    let out = scene
        .sops(&a)
        .env("GNUPGHOME", gpg.home.path())
        .args(["-e", "--pgp", &fingerprint, "plain.yaml"])
        .output()
        .expect("sops -e --pgp");
    scene.write("legacy.yaml", &check(&out, "sops -e --pgp"));
    assert!(scene.read("legacy.yaml").contains("BEGIN PGP MESSAGE"));

    // windlass opens it with the exported secret key, and moves it to age.
    let yaml = check(
        &scene
            .windlass(&a)
            .args(["decrypt", "--pgp-key", "secret.asc", "legacy.yaml"])
            .output()
            .expect("w"),
        "windlass decrypt --pgp-key",
    );
    assert_eq!(data(&parse(Format::Yaml, &yaml)), data(&expected_yaml()));
    let out = scene
        .windlass(&a)
        .args([
            "rotate",
            "--pgp-key",
            "secret.asc",
            "--add-age",
            &a.recipient,
            "legacy.yaml",
        ])
        .output()
        .expect("windlass rotate");
    check(&out, "windlass rotate to age");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains(&format!("warning: pgp: {fingerprint} no longer opens")),
        "{warning}"
    );
    let moved = scene.read("legacy.yaml");
    assert!(!moved.contains("pgp:") && moved.contains(&a.recipient), "{moved}");
    // sops opens it with the age key alone (no GNUPGHOME).
    let yaml = check(
        &scene.sops(&a).args(["-d", "legacy.yaml"]).output().expect("sops -d"),
        "sops -d after migration",
    );
    assert_eq!(data(&parse(Format::Yaml, &yaml)), data(&expected_yaml()));
}

#[test]
fn selection_rules_mac_only_encrypted_and_multi_document_streams_agree_with_sops() {
    let Some(scene) = Scene::new() else { return };
    let a = scene.key("a.txt");
    scene.write("plain.yaml", PLAIN_YAML);
    scene.write("multi.yaml", "a: 1\nb: one\n---\n# second\nc: [true, 2.5]\n");
    for (file, flags) in [
        (
            "plain.yaml",
            vec!["--encrypted-regex", "^(password|hosts)$", "--mac-only-encrypted"],
        ),
        ("plain.yaml", vec!["--unencrypted-suffix", "_plain"]),
        ("plain.yaml", vec!["--encrypted-suffix", "word"]),
        ("multi.yaml", vec![]),
    ] {
        let expected = parse_all(&scene.read(file));
        // windlass -> sops
        let out = scene
            .windlass(&a)
            .args(["encrypt", "--age", &a.recipient])
            .args(&flags)
            .arg(file)
            .output()
            .expect("windlass encrypt");
        scene.write("w.yaml", &check(&out, "windlass encrypt"));
        let yaml = check(
            &scene.sops(&a).args(["-d", "w.yaml"]).output().expect("sops -d"),
            &format!("sops -d ({flags:?})"),
        );
        assert_eq!(parse_all(&yaml), expected, "{flags:?}: {yaml}");
        // sops -> windlass
        let out = scene
            .sops(&a)
            .args(["-e", "--age", &a.recipient])
            .args(&flags)
            .arg(file)
            .output()
            .expect("sops -e");
        scene.write("s.yaml", &check(&out, "sops -e"));
        let yaml = check(
            &scene.windlass(&a).args(["decrypt", "s.yaml"]).output().expect("w"),
            &format!("windlass decrypt ({flags:?})"),
        );
        assert_eq!(parse_all(&yaml), expected, "{flags:?}: {yaml}");
    }
}

/// Every document's data, timestamps as Go prints them.
fn parse_all(text: &str) -> Vec<Vec<Entry>> {
    let text = text.replace("since: 2024-06-01\n", "since: 2024-06-01T00:00:00Z\n");
    PlainDocument::parse(Format::Yaml, &text)
        .expect("parses")
        .documents()
        .iter()
        .map(|d| data(d))
        .collect()
}

/// Comments where go-yaml's placement is subtle: after nested collections at a
/// lower indentation, between list items, on a key line, after flow collections,
/// at the end of the file. sops decrypts a comment only when it reads it at the
/// path windlass encrypted it under; one it cannot decrypt shows as `#ENC[...]`.
const TRICKY_COMMENTS: &str = "\
# head 1

# head 2 after a blank line
a: # on the key line
  b: 1
    # deeper than b
  c:
    - x: 1
      # inside an item's map
      y: 2
    # between items
    - z: 3
  # end of a at a's indentation
# at the root before d
d: [1, 2] # after a flow list
e:
  - - nested
    # in a nested list
    - two
l:
- 1
# head of m after an unindented list
m:
  n:
    o: 1
  # the end, after a nested map
";

#[test]
fn every_comment_windlass_encrypts_is_decrypted_by_sops() {
    let Some(scene) = Scene::new() else { return };
    let a = scene.key("a.txt");
    scene.write("comments.yaml", TRICKY_COMMENTS);
    let out = scene
        .windlass(&a)
        .args(["encrypt", "--age", &a.recipient, "comments.yaml", "-o", "c.enc.yaml"])
        .output()
        .expect("windlass encrypt");
    check(&out, "windlass encrypt");
    let out = scene.sops(&a).args(["-d", "c.enc.yaml"]).output().expect("sops -d");
    let yaml = check(&out, "sops -d");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !yaml.contains("ENC[") && !stderr.contains("unencrypted comment"),
        "{yaml}\n{stderr}"
    );
    let mut got = comments(&parse(Format::Yaml, &yaml));
    let mut want = comments(&parse(Format::Yaml, TRICKY_COMMENTS));
    got.sort();
    want.sort();
    assert_eq!(got, want, "{yaml}");
    assert_eq!(
        data(&parse(Format::Yaml, &yaml)),
        data(&parse(Format::Yaml, TRICKY_COMMENTS))
    );
    // And windlass reads every comment of the file sops makes from the same text.
    let out = scene
        .sops(&a)
        .args(["-e", "--age", &a.recipient, "comments.yaml"])
        .output()
        .expect("sops -e");
    scene.write("s.enc.yaml", &check(&out, "sops -e"));
    let yaml = check(
        &scene.windlass(&a).args(["decrypt", "s.enc.yaml"]).output().expect("w"),
        "windlass decrypt",
    );
    assert!(!yaml.contains("ENC["), "{yaml}");
    let mut got = comments(&parse(Format::Yaml, &yaml));
    got.sort();
    assert_eq!(got, want, "{yaml}");
}

#[test]
fn a_secrets_file_sops_encrypts_serves_the_spec_without_a_key() {
    let Some(scene) = Scene::new() else { return };
    let a = scene.key("a.txt");
    scene.write("plain.yaml", "db:\n    password: s3cr3t-canary\n    port: 5432\n");
    let out = scene
        .sops(&a)
        .args(["-e", "--age", &a.recipient, "plain.yaml"])
        .output()
        .expect("sops -e");
    fs::create_dir_all(scene.path("secrets")).expect("mkdir");
    scene.write("secrets/production.sops.yaml", &check(&out, "sops -e"));
    let spec = |key: &str| {
        format!(
            "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: shop\n  domain: example.com\n  tls: self-signed\n  \
             secrets: {{file: 'secrets/{{env}}.sops.yaml'}}\napps:\n  api:\n    image: ghcr.io/acme/api:1.0.0\n    port: 8080\n    \
             health: {{path: /ready, liveness: /livez}}\n    secretEnv: {{DB_PASSWORD: {{sops: db/password}}, DB_PORT: {{sops: 'db/{key}'}}}}\n\
             environments: {{production: {{}}}}\n"
        )
    };
    let render = |spec_text: &str| {
        scene.write("windlass.yaml", spec_text);
        Command::new(common::windlass_binary())
            .current_dir(scene.dir.path())
            .env("HOME", scene.dir.path())
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .args(["render", "--out", "out"])
            .output()
            .expect("windlass render")
    };
    let ok = render(&spec("port"));
    check(&ok, "windlass render of a sops-made secrets file, no key");
    assert_eq!(
        scene.read("out/_secrets/production.sops.yaml"),
        scene.read("secrets/production.sops.yaml")
    );
    let missing = render(&spec("prot"));
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("has no key `prot`") && err.contains("did you mean `db/port`?") && !err.contains("s3cr3t"),
        "{err}"
    );
}
