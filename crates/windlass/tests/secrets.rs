//! `windlass secrets` run as the real binary in a temporary directory, with a
//! throwaway age key and no key from the machine: exit codes, messages, files
//! written (and not written), the editor round trip with scripted editors, and
//! the private directory left empty. Interop with the real sops is tested in
//! windlass-testbed's tests/sops_interop.rs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

// Throwaway keys made for these tests with age-keygen; they protect nothing.
const KEY_A: &str = "AGE-SECRET-KEY-156C9HPY50LLX4CE32DYJCCG2LMZQ4GM7S88SGEY0EUGEDGM2Z77QAFQY53";
const RECIPIENT_A: &str = "age1dvk6vxsd3cs2krrzm05gwyjz204j3u0gj0vv9n3a8xnds6z3qu8q5a7hla";
const KEY_B: &str = "AGE-SECRET-KEY-1V5YNE0WZ67UWAX5XQNXKT2THRZ25J5N6LG2W2RRRE5G3MAYHSY9QSUSF58";
const RECIPIENT_B: &str = "age1l94agfrrcl8427pxvq6c8yajukjqjetxjf89tg2xful3442q3pasels5su";

/// A value that must appear only where the user asked for plaintext.
const CANARY: &str = "canary-7f3a9b";

const PLAIN: &str = "\
# database credentials
db:
    user: app
    password: canary-7f3a9b # rotate yearly
    port: 5432
replicas: 3
enabled: true
";

struct Bed {
    dir: tempfile::TempDir,
    /// Stands in for $XDG_RUNTIME_DIR: where `edit` keeps its plaintext.
    runtime: PathBuf,
    key: Option<&'static str>,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Bed {
    fn new() -> Bed {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = dir.path().join("runtime");
        fs::create_dir(&runtime).expect("runtime dir");
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).expect("chmod");
        Bed {
            dir,
            runtime,
            key: Some(KEY_A),
        }
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

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("windlass").expect("binary");
        cmd.current_dir(self.dir.path())
            .args(args)
            .env_remove("SOPS_AGE_KEY_FILE")
            .env_remove("SOPS_AGE_KEY_CMD")
            .env_remove("WINDLASS_SOPS_PGP_KEY_FILE")
            .env_remove("VISUAL")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_RUNTIME_DIR", &self.runtime);
        match self.key {
            Some(key) => cmd.env("SOPS_AGE_KEY", key),
            None => cmd.env_remove("SOPS_AGE_KEY"),
        };
        cmd
    }

    fn run_with(&self, args: &[&str], editor: Option<&Path>, stdin: &str) -> Run {
        let mut cmd = self.command(args);
        match editor {
            Some(e) => cmd.env("EDITOR", e),
            None => cmd.env_remove("EDITOR"),
        };
        let out = cmd.write_stdin(stdin).output().expect("run");
        let tmp = self.dir.path().display().to_string();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).replace(&tmp, "[TMP]"),
            stderr: String::from_utf8_lossy(&out.stderr).replace(&tmp, "[TMP]"),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, "")
    }

    /// `secrets.yaml` encrypted to key A.
    fn encrypted(&self) -> PathBuf {
        self.encrypt_to_a(PLAIN, "secrets.yaml");
        self.path("secrets.yaml")
    }

    /// `plain` written to plain.yaml and encrypted to key A into `out`.
    fn encrypt_to_a(&self, plain: &str, out: &str) {
        self.write("plain.yaml", plain);
        let run = self.run(&["secrets", "encrypt", "--age", RECIPIENT_A, "plain.yaml", "-o", out]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    /// An editor: a shell script run as `EDITOR FILE`.
    fn editor(&self, name: &str, body: &str) -> PathBuf {
        let p = self.write(name, &format!("#!/bin/sh\nset -e\n{body}\n"));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    fn runtime_is_empty(&self) -> bool {
        fs::read_dir(&self.runtime).expect("runtime").next().is_none()
    }
}

#[test]
fn encrypt_then_decrypt_gives_the_plaintext_back() {
    let bed = Bed::new();
    bed.encrypted();
    let encrypted = bed.read("secrets.yaml");
    assert!(
        !encrypted.contains(CANARY) && !encrypted.contains("database credentials"),
        "{encrypted}"
    );
    assert!(encrypted.contains(&format!("recipient: {RECIPIENT_A}")), "{encrypted}");
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.stdout, PLAIN);
    let run = bed.run(&[
        "secrets",
        "decrypt",
        "--extract",
        r#"["db"]["password"]"#,
        "secrets.yaml",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "canary-7f3a9b"));
    let run = bed.run(&["secrets", "decrypt", "--extract", r#"["db"]["port"]"#, "secrets.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "5432\n"));
    // To a file: mode 0600, nothing on stdout.
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml", "--output", "out.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(bed.read("out.yaml"), PLAIN);
    let mode = fs::metadata(bed.path("out.yaml")).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn encrypt_in_place_keeps_the_file_mode_and_json_works() {
    let bed = Bed::new();
    let p = bed.write("app.json", r#"{"token": "canary-7f3a9b", "n": 1.5}"#);
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
    let run = bed.run(&["secrets", "encrypt", "-i", "--age", RECIPIENT_A, "app.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "encrypted app.json in place\n");
    assert_eq!(fs::metadata(&p).expect("meta").permissions().mode() & 0o777, 0o640);
    assert!(!bed.read("app.json").contains(CANARY));
    let run = bed.run(&["secrets", "decrypt", "app.json"]);
    assert_eq!(run.stdout, "{\n\t\"token\": \"canary-7f3a9b\",\n\t\"n\": 1.5\n}\n");
}

#[test]
fn creation_rules_pick_recipients_and_the_encrypted_keys_by_path() {
    let bed = Bed::new();
    bed.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: prod/.*\\.yaml$\n    encrypted_regex: ^(password|token)$\n    age: >-\n      {RECIPIENT_A},\n      {RECIPIENT_B}\n  - age: {RECIPIENT_B}\n"
        ),
    );
    fs::create_dir_all(bed.path("prod")).expect("mkdir");
    bed.write("prod/db.yaml", PLAIN);
    let run = bed.run(&["secrets", "encrypt", "prod/db.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("    user: app\n") && !run.stdout.contains(CANARY),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("encrypted_regex: ^(password|token)$"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(RECIPIENT_A) && run.stdout.contains(RECIPIENT_B),
        "{}",
        run.stdout
    );
    // The fallback rule: only B.
    bed.write("dev.yaml", PLAIN);
    let run = bed.run(&["secrets", "encrypt", "dev.yaml"]);
    assert!(
        run.stdout.contains(RECIPIENT_B) && !run.stdout.contains(RECIPIENT_A),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_exits_2_with_the_fix_and_writes_nothing() {
    let bed = Bed::new();
    bed.write("plain.yaml", PLAIN);
    let run = bed.run(&["secrets", "encrypt", "plain.yaml", "-i"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no recipients for plain.yaml: no --age and no .sops.yaml in its directory or above\n  help: pass --age age1... (see `age-keygen -y KEYFILE`), or add a .sops.yaml with creation_rules\n"
    );
    assert_eq!(bed.read("plain.yaml"), PLAIN);
    let run = bed.run(&["secrets", "encrypt", "--age", "age1nope", "plain.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: invalid age recipient `age1nope`"),
        "{}",
        run.stderr
    );
    bed.write("x.env", "A=1\n");
    let run = bed.run(&["secrets", "encrypt", "--age", RECIPIENT_A, "x.env"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("dotenv files is not supported"), "{}", run.stderr);
    let run = bed.run(&["secrets", "decrypt", "plain.yaml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("has no `sops` metadata"), "{}", run.stderr);
    assert!(!run.stderr.contains(CANARY));
    let run = bed.run(&["secrets", "decrypt", "missing.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot read missing.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wrong_key_a_tampered_value_and_a_tampered_mac_are_refused() {
    let mut bed = Bed::new();
    bed.encrypted();
    let text = bed.read("secrets.yaml");
    bed.key = Some(KEY_B);
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("none of the local keys opens this file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(RECIPIENT_A) && run.stderr.contains("--add-age"),
        "{}",
        run.stderr
    );
    bed.key = Some(KEY_A);

    // One base64 character of a value's data changed.
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("password: ENC["))
        .expect("password line");
    let data = line.find("data:").expect("data") + 5;
    let mut bytes = line.as_bytes().to_vec();
    bytes[data] = if bytes[data] == b'A' { b'B' } else { b'A' };
    let tampered = text.replace(line, std::str::from_utf8(&bytes).expect("utf-8"));
    bed.write("tampered.yaml", &tampered);
    let run = bed.run(&["secrets", "decrypt", "tampered.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert_eq!(
        run.stderr,
        "error: tampered.yaml: the value at [\"db\"][\"password\"] does not decrypt with this file's data key: it was changed or copied from another file\n  help: restore it from version control, or set it again with `windlass secrets edit`\n"
    );

    // The MAC replaced by another file's MAC.
    bed.write("other.yaml", "a: 1\n");
    let other = bed
        .run(&["secrets", "encrypt", "--age", RECIPIENT_A, "other.yaml"])
        .stdout;
    let mac = |t: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with("mac: "))
            .expect("mac")
            .to_string()
    };
    bed.write("mac.yaml", &text.replace(&mac(&text), &mac(&other)));
    let run = bed.run(&["secrets", "decrypt", "mac.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(run.stderr.contains("the MAC does not decrypt"), "{}", run.stderr);

    // A value removed: every other value is intact, the MAC no longer matches.
    let replicas = text.lines().find(|l| l.starts_with("replicas: ")).expect("replicas");
    bed.write("removed.yaml", &text.replace(&format!("{replicas}\n"), ""));
    let run = bed.run(&["secrets", "decrypt", "removed.yaml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: removed.yaml: MAC mismatch"),
        "{}",
        run.stderr
    );
}

#[test]
fn edit_reencrypts_only_what_changed_and_leaves_no_plaintext_behind() {
    let bed = Bed::new();
    let file = bed.encrypted();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = bed.read("secrets.yaml");
    let editor = bed.editor(
        "ed.sh",
        // Records where the plaintext lives and its mode, then changes one value.
        &format!(
            "stat -c '%a' \"$1\" > {0}/mode; stat -c '%a' \"$(dirname \"$1\")\" > {0}/dirmode; dirname \"$(dirname \"$1\")\" > {0}/where\nsed -i 's/replicas: 3/replicas: 4/' \"$1\"",
            bed.dir.path().display()
        ),
    );
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&editor), "");
    assert_eq!((run.code, run.stderr.as_str()), (0, "secrets.yaml: saved\n"));
    assert_eq!(bed.read("mode").trim(), "600");
    assert_eq!(bed.read("dirmode").trim(), "700");
    assert_eq!(Path::new(bed.read("where").trim()), bed.runtime);
    assert!(bed.runtime_is_empty(), "the plaintext directory was removed");
    let after = bed.read("secrets.yaml");
    let changed: Vec<&str> = after.lines().filter(|l| !before.lines().any(|b| b == *l)).collect();
    // lastmodified too, unless the edit happened within the second of the encryption.
    assert!(changed[0].starts_with("replicas: ENC["), "{changed:?}");
    assert!(
        changed.iter().any(|l| l.trim_start().starts_with("mac: ENC[")),
        "{changed:?}"
    );
    assert!(
        changed[1..]
            .iter()
            .all(|l| l.trim_start().starts_with("mac: ") || l.trim_start().starts_with("lastmodified: ")),
        "replicas, lastmodified and mac only: {changed:?}"
    );
    assert_eq!(fs::metadata(&file).expect("meta").permissions().mode() & 0o777, 0o640);
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!(run.stdout, PLAIN.replace("replicas: 3", "replicas: 4"));
}

#[test]
fn the_editor_runs_without_core_dumps() {
    let bed = Bed::new();
    bed.encrypted();
    // RLIMIT_CORE is inherited: the editor sees windlass's limit of 0.
    let editor = bed.editor(
        "limits.sh",
        &format!(
            "grep 'Max core file size' /proc/self/limits > {}/limits",
            bed.dir.path().display()
        ),
    );
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&editor), "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let limits = bed.read("limits");
    let fields: Vec<&str> = limits.split_whitespace().collect();
    assert_eq!(fields[fields.len() - 3..fields.len() - 1], ["0", "0"], "{limits}");
}

#[test]
fn an_unchanged_edit_does_not_rewrite_the_file() {
    let bed = Bed::new();
    bed.encrypted();
    let before = bed.read("secrets.yaml");
    let editor = bed.editor("noop.sh", "true");
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&editor), "");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "secrets.yaml: no changes; the file was not rewritten\n")
    );
    assert_eq!(bed.read("secrets.yaml"), before);
    assert!(bed.runtime_is_empty());
}

#[test]
fn an_edit_that_no_longer_parses_is_reopened_or_aborted() {
    let bed = Bed::new();
    bed.encrypted();
    let before = bed.read("secrets.yaml");
    // First run breaks the YAML; the second (after the user presses Enter) fixes it.
    let editor = bed.editor(
        "twice.sh",
        &format!(
            "if [ ! -e {0}/opened ]; then touch {0}/opened; printf 'db: [\\n' > \"$1\"; else printf 'db:\\n    password: fixed\\n' > \"$1\"; fi",
            bed.dir.path().display()
        ),
    );
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&editor), "\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: the edited file is not valid: not valid YAML at line"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Press Enter to edit it again"), "{}", run.stderr);
    assert!(run.stderr.ends_with("secrets.yaml: saved\n"), "{}", run.stderr);
    assert!(bed.runtime_is_empty());
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!(run.stdout, "db:\n    password: fixed\n");

    // Aborting (q) leaves the file as it was and no plaintext behind.
    bed.write("secrets.yaml", &before);
    let broken = bed.editor("broken.sh", "printf 'db: [\\n' > \"$1\"");
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&broken), "q\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.ends_with("error: edit aborted; nothing was written\n"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(CANARY) && !run.stdout.contains(CANARY));
    assert_eq!(bed.read("secrets.yaml"), before);
    assert!(bed.runtime_is_empty());

    // A failing editor aborts too.
    let failing = bed.editor("fail.sh", "exit 3");
    let run = bed.run_with(&["secrets", "edit", "secrets.yaml"], Some(&failing), "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("failed") && run.stderr.contains("nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(bed.read("secrets.yaml"), before);
    assert!(bed.runtime_is_empty());
}

#[test]
fn rotate_changes_the_data_key_and_recipients() {
    let mut bed = Bed::new();
    bed.encrypted();
    let before = bed.read("secrets.yaml");
    let run = bed.run(&[
        "secrets",
        "rotate",
        "secrets.yaml",
        "--add-age",
        RECIPIENT_B,
        "--rm-age",
        RECIPIENT_A,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!("rotated secrets.yaml: new data key, every value re-encrypted, recipients: age: {RECIPIENT_B}\n")
    );
    let after = bed.read("secrets.yaml");
    let old_values: Vec<&str> = before.lines().filter(|l| l.contains("ENC[")).collect();
    assert!(
        !after.lines().any(|l| old_values.contains(&l)),
        "every value has a new ciphertext"
    );
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!(run.code, 2, "A was removed");
    bed.key = Some(KEY_B);
    let run = bed.run(&["secrets", "decrypt", "secrets.yaml"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, PLAIN));
    let run = bed.run(&["secrets", "rotate", "secrets.yaml", "--rm-age", RECIPIENT_A]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("is not a recipient of the file; nothing was written"),
        "{}",
        run.stderr
    );
}

#[test]
fn keys_lists_recipients_and_whether_the_local_key_opens_the_file() {
    let mut bed = Bed::new();
    bed.encrypted();
    let run = bed.run(&["secrets", "keys", "secrets.yaml"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(
        run.stdout,
        format!("secrets.yaml: 1 recipient(s)\n  age {RECIPIENT_A}  (a local key)\nthe local keys open it: yes\n")
    );
    bed.key = None;
    let run = bed.run(&["secrets", "keys", "secrets.yaml", "--output", "json"]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v["opens"], false);
    assert_eq!(v["recipients"][0]["id"], RECIPIENT_A);
    assert_eq!(v["recipients"][0]["local"], false);
    // The key from the default sops keys file.
    fs::create_dir_all(bed.path("config/sops/age")).expect("mkdir");
    bed.write("config/sops/age/keys.txt", &format!("# test\n{KEY_A}\n"));
    let run = bed.run(&["secrets", "keys", "secrets.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // And from SOPS_AGE_KEY_CMD, which is told the recipient it is asked for.
    fs::remove_file(bed.path("config/sops/age/keys.txt")).expect("rm");
    let mut cmd = bed.command(&["secrets", "decrypt", "--extract", r#"["db"]["user"]"#, "secrets.yaml"]);
    let out = cmd
        .env(
            "SOPS_AGE_KEY_CMD",
            format!("test \"$SOPS_AGE_RECIPIENT\" = {RECIPIENT_A} && echo {KEY_A}"),
        )
        .output()
        .expect("run");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "app",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SOPS_SPEC: &str = "apiVersion: windlass.dev/v1alpha1
kind: Platform
platform:
  name: shop
  domain: example.com
  tls: self-signed
  secrets:
    file: secrets/{env}.sops.yaml
apps:
  api:
    image: ghcr.io/acme/api:1.0.0
    port: 8080
    health: {path: /ready, liveness: /livez}
    secretEnv:
      DB_PASSWORD: {sops: db/password}
environments:
  production: {}
";

impl Bed {
    /// The spec above and `secrets/production.sops.yaml` (db.password = the canary), encrypted to key A.
    fn sops_platform(&self) {
        self.write("windlass.yaml", SOPS_SPEC);
        fs::create_dir_all(self.path("secrets")).expect("mkdir");
        self.encrypt_to_a(
            &format!("db:\n    password: {CANARY}\n    user: app\n"),
            "secrets/production.sops.yaml",
        );
        fs::remove_file(self.path("plain.yaml")).expect("rm");
    }
}

#[test]
fn render_writes_the_encrypted_file_through_and_no_secret_value() {
    let bed = Bed::new();
    bed.sops_platform();
    let run = bed.run(&["render", "--out", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "and the encrypted secrets file (out/_secrets/production.sops.yaml), unchanged: `windlass up` decrypts it in memory and makes 1 Secret (shop/api-sops-db)"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        bed.read("out/_secrets/production.sops.yaml"),
        bed.read("secrets/production.sops.yaml")
    );
    let deployment = fs::read_dir(bed.path("out/shop/api"))
        .expect("app dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("-deployment-"))
        .expect("deployment file");
    let deployment = fs::read_to_string(deployment.path()).expect("read");
    assert!(deployment.contains("name: api-sops-db") && deployment.contains("windlass.dev/secrets-checksum"));
    let no_secret_files = fs::read_dir(bed.path("out/shop/api"))
        .expect("app dir")
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().contains("-secret-"));
    assert!(no_secret_files, "the sealed Secret is not written as a manifest");
    let stream = bed.run(&["render", "--stdout"]);
    assert_eq!(stream.code, 0, "{}", stream.stderr);
    assert!(
        stream
            .stderr
            .contains("note: the stream leaves out the 1 Secret `windlass up` makes"),
        "{}",
        stream.stderr
    );
    for r in [&run, &stream] {
        assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));
    }
}

#[test]
fn a_reference_the_encrypted_file_lacks_is_located_without_any_key() {
    let mut bed = Bed::new();
    bed.sops_platform();
    bed.key = None;
    bed.write("windlass.yaml", &SOPS_SPEC.replace("db/password", "db/pasword"));
    let run = bed.run(&["render", "--out", "out"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: windlass.yaml:15:27: apps.api.secretEnv.DB_PASSWORD.sops: the Secret `db` in secrets/production.sops.yaml has no key `pasword`\n  help: did you mean `db/password`?\n"
    );
    assert!(!bed.path("out").exists(), "nothing written");
    // A value left in the clear is refused at its place, and not quoted.
    bed.write("windlass.yaml", SOPS_SPEC);
    let encrypted = bed.read("secrets/production.sops.yaml");
    bed.write(
        "secrets/production.sops.yaml",
        &encrypted.replacen("    user: ENC[", "    user: plain-text-value\n    x: ENC[", 1),
    );
    let run = bed.run(&["render", "--out", "out"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: secrets/production.sops.yaml:3:11: db.user: is stored in the clear, not encrypted"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("plain-text-value"));
}

#[test]
fn up_without_a_key_that_opens_the_file_stops_before_the_cluster() {
    let mut bed = Bed::new();
    bed.sops_platform();
    bed.key = Some(KEY_B);
    let run = bed.run(&["up", "--kubeconfig", "/nonexistent/kubeconfig"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: secrets/production.sops.yaml: none of the local keys opens this file"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("kubeconfig"),
        "stopped before reading the kubeconfig: {}",
        run.stderr
    );
}

#[test]
fn a_flux_tree_carries_the_secrets_encrypted_and_unchanged_across_renders() {
    let bed = Bed::new();
    bed.sops_platform();
    let render = |out: &str| bed.run(&["render", "--format", "flux", "--out", out]);
    let first = render("gitops");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let file = "gitops/units/production/shop/api/07-secret-api-sops-db.sops.yaml";
    let text = bed.read(file);
    assert!(
        text.contains("kind: Secret") && text.contains("password: ENC[AES256_GCM"),
        "{text}"
    );
    assert!(!text.contains(CANARY));
    let ks = bed.read("gitops/clusters/production/windlass.yaml");
    assert!(
        ks.contains("decryption:\n    provider: sops\n    secretRef:\n      name: sops-age"),
        "{ks}"
    );
    // The real values inside, for whoever holds the key; a second render keeps the file byte for byte.
    let opened = bed.run(&["secrets", "decrypt", file]);
    assert_eq!(opened.code, 0, "{}", opened.stderr);
    let b64 = serde_json::to_value(k8s_openapi::ByteString(CANARY.as_bytes().to_vec())).expect("b64");
    assert!(opened.stdout.contains(b64.as_str().expect("str")), "{}", opened.stdout);
    let second = render("gitops");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(bed.read(file), text);
    // Argo CD cannot decrypt SOPS files without a plugin: refused, nothing written.
    let argo = bed.run(&[
        "render",
        "--format",
        "argocd",
        "--repo-url",
        "https://git.example.com/x.git",
        "--out",
        "argo",
    ]);
    assert_eq!(argo.code, 2);
    assert!(
        argo.stderr
            .contains("Argo CD cannot decrypt SOPS files without a plugin"),
        "{}",
        argo.stderr
    );
    assert!(!bed.path("argo").exists());
    for r in [&first, &second, &argo] {
        assert!(!r.stdout.contains(CANARY) && !r.stderr.contains(CANARY));
    }
}
