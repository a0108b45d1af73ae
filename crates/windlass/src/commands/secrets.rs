//! `windlass secrets`: the edge around `windlass-sops` — finding keys as sops finds
//! them, `.sops.yaml` lookup, atomic writes that keep a file's mode, the editor
//! round trip through a private tmpfs directory, and telling the OS not to dump core
//! while plaintext is in memory.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use windlass_sops::{
    AgeRecipient, EncryptOptions, EncryptedFile, EncryptionRules, Format, Keyring, Opened, PlainDocument, Rotation,
    Selection, SopsConfig, SopsError,
};
use zeroize::Zeroizing;

use super::ExitStatus;
use crate::cli::{
    OutputFormat, SecretKeyArgs, SecretsArgs, SecretsCommand, SecretsDecryptArgs, SecretsEditArgs, SecretsEncryptArgs,
    SecretsFormat, SecretsKeysArgs, SecretsRotateArgs,
};
use crate::error::CliError;
use crate::output::print;

/// The largest file read (SOPS files are small; this bounds memory on a wrong path).
const MAX_FILE_BYTES: u64 = 16 << 20;
/// The passphrase of `--pgp-key`, when it has one.
const PGP_PASSPHRASE_ENV: &str = "WINDLASS_SOPS_PGP_PASSPHRASE";

pub fn run(args: &SecretsArgs) -> Result<ExitStatus, CliError> {
    match &args.command {
        SecretsCommand::Encrypt(a) => encrypt(a),
        SecretsCommand::Decrypt(a) => decrypt(a),
        SecretsCommand::Edit(a) => edit(a),
        SecretsCommand::Rotate(a) => rotate(a),
        SecretsCommand::Keys(a) => keys(a),
    }
}

#[allow(clippy::print_stderr)] // status lines go to stderr so stdout stays the file's content
fn note(text: &str) {
    eprintln!("{text}");
}

fn format_of(path: &Path, flag: Option<SecretsFormat>) -> Result<Format, CliError> {
    Ok(match flag {
        Some(SecretsFormat::Yaml) => Format::Yaml,
        Some(SecretsFormat::Json) => Format::Json,
        None => Format::from_path(&path.to_string_lossy())?,
    })
}

fn read_text(path: &Path) -> Result<Zeroizing<String>, CliError> {
    use std::io::Read;
    let read_err = |source| CliError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "{} is larger than {} MiB; SOPS files are small\n  help: check the path",
            path.display(),
            MAX_FILE_BYTES >> 20
        )));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::Usage(format!(
            "{} is not UTF-8 text\n  help: SOPS files are YAML or JSON",
            path.display()
        ))
    })?;
    Ok(Zeroizing::new(text.to_string()))
}

fn read_encrypted(path: &Path, format: Option<SecretsFormat>) -> Result<EncryptedFile, CliError> {
    let format = format_of(path, format)?;
    let text = read_text(path)?;
    EncryptedFile::parse(format, &text).map_err(|e| in_file(path, e))
}

/// Prefixes a crate error with the file it is about.
fn in_file(path: &Path, e: SopsError) -> CliError {
    CliError::Usage(format!("{}: {e}", path.display()))
}

/// Linux: this process may not dump core nor be ptraced by the same user while it
/// holds plaintext (PR_SET_DUMPABLE 0, RLIMIT_CORE 0). Best effort elsewhere.
fn forbid_core_dumps() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
    #[cfg(unix)]
    {
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Core,
            rustix::process::Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The sops age keys file: `$XDG_CONFIG_HOME/sops/age/keys.txt`, else the user
/// config directory (`~/.config`; `~/Library/Application Support` on macOS).
fn default_age_keys_file() -> Option<PathBuf> {
    let config = match env_nonempty("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = PathBuf::from(env_nonempty("HOME")?);
            if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".config")
            }
        }
    };
    Some(config.join("sops/age/keys.txt"))
}

/// The private keys, from every place sops looks (all of them, as sops merges them),
/// plus `--pgp-key`. `recipients` are the file's age recipients, passed to
/// `SOPS_AGE_KEY_CMD` as `SOPS_AGE_RECIPIENT` the way sops runs it per key.
fn keyring(args: &SecretKeyArgs, recipients: &[String]) -> Result<Keyring, CliError> {
    let mut keys = Keyring::new();
    if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
        let text = Zeroizing::new(text);
        keys.add_age_identities("SOPS_AGE_KEY", &text)?;
    }
    if let Some(path) = env_nonempty("SOPS_AGE_KEY_FILE") {
        let text = read_text(Path::new(&path))?;
        keys.add_age_identities(&format!("SOPS_AGE_KEY_FILE ({path})"), &text)?;
    }
    if let Some(cmd) = env_nonempty("SOPS_AGE_KEY_CMD") {
        let asked: Vec<&str> = if recipients.is_empty() {
            vec![""]
        } else {
            recipients.iter().map(String::as_str).collect()
        };
        for recipient in asked {
            let out = Command::new("sh")
                .args(["-c", &cmd])
                .env("SOPS_AGE_RECIPIENT", recipient)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| CliError::Usage(format!("SOPS_AGE_KEY_CMD could not run: {e}")))?;
            let stdout = Zeroizing::new(out.stdout);
            if !out.status.success() {
                return Err(CliError::Usage(format!(
                    "SOPS_AGE_KEY_CMD failed ({})\n  help: run it yourself to see why",
                    out.status
                )));
            }
            let text = std::str::from_utf8(&stdout)
                .map_err(|_| CliError::Usage("SOPS_AGE_KEY_CMD printed something that is not UTF-8".into()))?;
            keys.add_age_identities("SOPS_AGE_KEY_CMD", text)?;
        }
    }
    if let Some(path) = default_age_keys_file()
        && path.is_file()
    {
        let text = read_text(&path)?;
        keys.add_age_identities(&path.display().to_string(), &text)?;
    }
    if let Some(path) = &args.pgp_key {
        let text = read_text(path)?;
        let passphrase = Zeroizing::new(std::env::var(PGP_PASSPHRASE_ENV).unwrap_or_default());
        keys.add_pgp_secret_keys(&text, &passphrase)
            .map_err(|e| in_file(path, e))?;
    }
    Ok(keys)
}

fn file_recipients(file: &EncryptedFile) -> Vec<String> {
    file.metadata()
        .key_groups
        .iter()
        .flat_map(|g| g.age.iter().map(|a| a.recipient.clone()))
        .collect()
}

fn open(path: &Path, file: &EncryptedFile, key_args: &SecretKeyArgs) -> Result<Opened, CliError> {
    open_with_keys(path, file, key_args).map(|(_, opened)| opened)
}

/// `open`, keeping the keys found (to open further files made for the same recipients).
fn open_with_keys(path: &Path, file: &EncryptedFile, key_args: &SecretKeyArgs) -> Result<(Keyring, Opened), CliError> {
    forbid_core_dumps();
    let keys = keyring(key_args, &file_recipients(file))?;
    let opened = file.open(&keys).map_err(|e| in_file(path, e))?;
    Ok((keys, opened))
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Replaces `path` atomically (a temporary file in its directory, renamed over it),
/// keeping its mode; a new file gets `new_mode`.
fn write_atomic(path: &Path, bytes: &[u8], new_mode: u32) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let write_err = |source| CliError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mode = std::fs::metadata(path).map_or(new_mode, |m| m.permissions().mode() & 0o7777);
    let mut tmp = tempfile::Builder::new()
        .prefix(".windlass-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode)).map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

/// The nearest `.sops.yaml` in the file's directory or above, with its directory.
/// sops starts from the working directory instead; run at a repository's root with
/// `.sops.yaml` there, both find the same file. Like sops, `.sops.yml` is not read.
fn find_sops_config(file: &Path) -> Option<(PathBuf, PathBuf)> {
    let absolute = std::path::absolute(file).ok()?;
    let mut dir = absolute.parent()?.to_path_buf();
    loop {
        let candidate = dir.join(".sops.yaml");
        if candidate.is_file() {
            return Some((candidate, dir));
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn encrypt(args: &SecretsEncryptArgs) -> Result<ExitStatus, CliError> {
    let format = format_of(&args.file, args.format)?;
    let text = read_text(&args.file)?;
    let plain = PlainDocument::parse(format, &text).map_err(|e| in_file(&args.file, e))?;
    drop(text);
    let flag_selection = [
        args.encrypted_regex.clone().map(Selection::EncryptedRegex),
        args.unencrypted_regex.clone().map(Selection::UnencryptedRegex),
        args.encrypted_suffix.clone().map(Selection::EncryptedSuffix),
        args.unencrypted_suffix.clone().map(Selection::UnencryptedSuffix),
    ]
    .into_iter()
    .flatten()
    .next();
    let (recipients, mut rules) = if args.age.is_empty() {
        let (config_path, config_dir) = find_sops_config(&args.file).ok_or_else(|| {
            CliError::Usage(format!(
                "no recipients for {}: no --age and no .sops.yaml in its directory or above\n  help: pass --age age1... (see `age-keygen -y KEYFILE`), or add a .sops.yaml with creation_rules",
                args.file.display()
            ))
        })?;
        let config = SopsConfig::parse(&read_text(&config_path)?).map_err(|e| in_file(&config_path, e))?;
        let absolute = std::path::absolute(&args.file).map_err(|source| CliError::Read {
            path: args.file.clone(),
            source,
        })?;
        let relative = absolute.strip_prefix(&config_dir).unwrap_or(&absolute);
        let rule = config
            .rule_for(&relative.to_string_lossy().replace('\\', "/"))
            .map_err(|e| in_file(&config_path, e))?;
        if rule.recipients.is_empty() {
            return Err(in_file(&config_path, SopsError::NoRecipients));
        }
        (rule.recipients.clone(), rule.rules.clone())
    } else {
        let mut recipients = Vec::new();
        for r in &args.age {
            recipients.extend(AgeRecipient::parse_list(r)?);
        }
        (recipients, EncryptionRules::default())
    };
    if let Some(selection) = flag_selection {
        rules.selection = selection;
    }
    rules.mac_only_encrypted |= args.mac_only_encrypted;
    let file = windlass_sops::encrypt(
        &plain,
        &EncryptOptions { recipients, rules },
        jiff::Timestamp::now(),
        &mut rng(),
    )
    .map_err(|e| in_file(&args.file, e))?;
    let out = file.to_text();
    match (&args.output, args.in_place) {
        (Some(path), _) => {
            write_atomic(path, out.as_bytes(), 0o644)?;
            note(&format!("wrote {}", path.display()));
        }
        (None, true) => {
            write_atomic(&args.file, out.as_bytes(), 0o644)?;
            note(&format!("encrypted {} in place", args.file.display()));
        }
        (None, false) => print(&out)?,
    }
    Ok(ExitStatus::Success)
}

fn decrypt(args: &SecretsDecryptArgs) -> Result<ExitStatus, CliError> {
    let file = read_encrypted(&args.file, args.format)?;
    let opened = open(&args.file, &file, &args.keys)?;
    let text: Zeroizing<String> = match &args.extract {
        None => opened.plaintext().to_text(),
        Some(path) => {
            let segments = windlass_sops::tree::parse_extract_path(path).ok_or_else(|| {
                CliError::Usage(format!(
                    "--extract {path:?} is not a path like [\"key\"][\"nested\"][0]"
                ))
            })?;
            opened
                .plaintext()
                .extract_text(&segments)
                .ok_or_else(|| CliError::Usage(format!("{}: there is no value at {path}", args.file.display())))?
        }
    };
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes(), 0o600)?;
            note(&format!("wrote the plaintext to {}", path.display()));
        }
        None => print(&text)?,
    }
    Ok(ExitStatus::Success)
}

/// A private directory for the plaintext under edit: tmpfs where one exists.
fn private_dir() -> Result<tempfile::TempDir, CliError> {
    use std::os::unix::fs::PermissionsExt;
    let candidates = [
        env_nonempty("XDG_RUNTIME_DIR").map(PathBuf::from),
        Some(PathBuf::from("/dev/shm")),
    ];
    let base = candidates
        .into_iter()
        .flatten()
        .find(|p| {
            p.is_dir()
                && tempfile::Builder::new()
                    .prefix(".windlass-probe-")
                    .tempfile_in(p)
                    .is_ok()
        })
        .unwrap_or_else(std::env::temp_dir);
    tempfile::Builder::new()
        .prefix("windlass-secrets-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(&base)
        .map_err(|source| CliError::Write { path: base, source })
}

fn editor_command() -> String {
    env_nonempty("VISUAL")
        .or_else(|| env_nonempty("EDITOR"))
        .unwrap_or_else(|| "vi".into())
}

/// Runs the editor on `path`; `$EDITOR` may carry arguments (`code --wait`).
fn run_editor(path: &Path) -> Result<(), CliError> {
    let editor = editor_command();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("windlass-edit")
        .arg(path)
        .status()
        .map_err(|e| {
            CliError::Usage(format!(
                "the editor `{editor}` could not start: {e}\n  help: set $VISUAL or $EDITOR"
            ))
        })?;
    if !status.success() {
        return Err(CliError::Usage(format!(
            "the editor `{editor}` failed ({status}); nothing was written"
        )));
    }
    Ok(())
}

/// Asks whether to reopen the editor after a parse error; `false` aborts.
#[allow(clippy::print_stderr)]
fn ask_reopen(error: &str) -> bool {
    eprintln!("error: the edited file is not valid: {error}");
    eprint!("Press Enter to edit it again, or type q and Enter to abort (nothing is written): ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    match std::io::stdin().lock().read_line(&mut answer) {
        Ok(0) | Err(_) => false,
        Ok(_) => !matches!(answer.trim(), "q" | "Q" | "quit" | "abort"),
    }
}

fn edit(args: &SecretsEditArgs) -> Result<ExitStatus, CliError> {
    let file = read_encrypted(&args.file, args.format)?;
    let opened = open(&args.file, &file, &args.keys)?;
    // Ctrl-C reaches the editor; windlass stays to remove the plaintext, then stops.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let dir = private_dir()?;
    let ext = match file.format() {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let name = args
        .file
        .file_stem()
        .map_or_else(|| "secrets".to_string(), |s| s.to_string_lossy().into_owned());
    let plain_path = dir.path().join(format!("{name}.{ext}"));
    let result = edit_loop(&plain_path, &opened, file.format(), &interrupted);
    // The plaintext file and its directory go on every path (TempDir drops here too).
    let _ = std::fs::remove_file(&plain_path);
    drop(dir);
    let Some(edited) = result? else {
        note(&format!(
            "{}: no changes; the file was not rewritten",
            args.file.display()
        ));
        return Ok(ExitStatus::Success);
    };
    let again = opened
        .reencrypt(&edited, jiff::Timestamp::now(), &mut rng())
        .map_err(|e| in_file(&args.file, e))?;
    write_atomic(&args.file, again.to_text().as_bytes(), 0o644)?;
    note(&format!("{}: saved", args.file.display()));
    Ok(ExitStatus::Success)
}

/// The editor round trip: `None` when nothing changed.
fn edit_loop(
    path: &Path,
    opened: &Opened,
    format: Format,
    interrupted: &AtomicBool,
) -> Result<Option<PlainDocument>, CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    let write_err = |source| CliError::Write {
        path: path.to_path_buf(),
        source,
    };
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(write_err)?;
        f.write_all(opened.plaintext().to_text().as_bytes())
            .map_err(write_err)?;
    }
    loop {
        run_editor(path)?;
        if interrupted.load(Ordering::SeqCst) {
            return Err(CliError::Usage("interrupted; nothing was written".into()));
        }
        let text = read_text(path)?;
        let parsed = PlainDocument::parse(format, &text).and_then(|doc| {
            let sops_key = doc
                .documents()
                .first()
                .is_some_and(|d| windlass_sops::tree::map_get(d, "sops").is_some());
            if sops_key {
                Err(SopsError::Shape {
                    problem: "a top-level `sops` key is reserved for the metadata".into(),
                    fix: "rename that key".into(),
                })
            } else {
                Ok(doc)
            }
        });
        match parsed {
            Ok(doc) if opened.is_unchanged(&doc) => return Ok(None),
            Ok(doc) => return Ok(Some(doc)),
            Err(e) => {
                if !ask_reopen(&e.to_string()) {
                    return Err(CliError::Usage("edit aborted; nothing was written".into()));
                }
            }
        }
    }
}

fn rotate(args: &SecretsRotateArgs) -> Result<ExitStatus, CliError> {
    let file = read_encrypted(&args.file, args.format)?;
    let mut add = Vec::new();
    for r in &args.add_age {
        add.extend(AgeRecipient::parse_list(r)?);
    }
    let remove: Vec<String> = args
        .rm_age
        .iter()
        .flat_map(|r| r.split(',').map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    let opened = open(&args.file, &file, &args.keys)?;
    let rotated = opened
        .rotate(
            &Rotation {
                add_age: add,
                remove_age: remove,
            },
            jiff::Timestamp::now(),
            &mut rng(),
        )
        .map_err(|e| in_file(&args.file, e))?;
    if !rotated.not_found.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: --rm-age {} is not a recipient of the file; nothing was written\n  help: `windlass secrets keys {}` lists them",
            args.file.display(),
            rotated.not_found.join(", "),
            args.file.display()
        )));
    }
    let target = args.output.as_ref().unwrap_or(&args.file);
    write_atomic(target, rotated.file.to_text().as_bytes(), 0o644)?;
    for dropped in &rotated.dropped {
        note(&format!(
            "warning: {dropped} no longer opens {} (windlass re-encrypts the new data key to age recipients only)",
            target.display()
        ));
    }
    let recipients: Vec<String> = rotated.file.metadata().describe_keys();
    note(&format!(
        "rotated {}: new data key, every value re-encrypted, recipients: {}",
        target.display(),
        recipients.join(", ")
    ));
    Ok(ExitStatus::Success)
}

fn keys(args: &SecretsKeysArgs) -> Result<ExitStatus, CliError> {
    let file = read_encrypted(&args.file, args.format)?;
    let keys = keyring(&args.keys, &file_recipients(&file))?;
    let local: Vec<String> = keys.age_recipients();
    let local_pgp: Vec<String> = keys.pgp_fingerprints();
    let opens = file.check_keys(&keys);
    let entries: Vec<(String, String, bool)> = file
        .metadata()
        .key_groups
        .iter()
        .flat_map(|g| {
            let age = g
                .age
                .iter()
                .map(|a| ("age".to_string(), a.recipient.clone(), local.contains(&a.recipient)));
            let pgp = g.pgp.iter().map(|p| {
                let mine = local_pgp.iter().any(|f| {
                    f.eq_ignore_ascii_case(&p.fingerprint) || p.fingerprint.to_uppercase().ends_with(&f.to_uppercase())
                });
                ("pgp".to_string(), p.fingerprint.clone(), mine)
            });
            let other = g
                .describe()
                .into_iter()
                .filter(|d| !d.starts_with("age: ") && !d.starts_with("pgp: "))
                .map(|d| {
                    let (kind, id) = d
                        .split_once(": ")
                        .map_or((d.clone(), String::new()), |(k, i)| (k.to_string(), i.to_string()));
                    (kind, id, false)
                });
            age.chain(pgp).chain(other).collect::<Vec<_>>()
        })
        .collect();
    match args.output {
        OutputFormat::Json => {
            let json = serde_json::json!({
                "file": args.file.display().to_string(),
                "recipients": entries.iter().map(|(kind, id, mine)| serde_json::json!({"kind": kind, "id": id, "local": mine})).collect::<Vec<_>>(),
                "opens": opens.is_ok(),
                "lastmodified": file.metadata().last_modified,
            });
            print(&format!("{json:#}\n"))?;
        }
        OutputFormat::Text => {
            let mut out = format!("{}: {} recipient(s)\n", args.file.display(), entries.len());
            for (kind, id, mine) in &entries {
                out.push_str(&format!(
                    "  {kind} {id}{}\n",
                    if *mine { "  (a local key)" } else { "" }
                ));
            }
            match &opens {
                Ok(()) => out.push_str("the local keys open it: yes\n"),
                Err(e) => out.push_str(&format!(
                    "the local keys open it: no\n  {}\n",
                    e.to_string().replace('\n', "\n  ")
                )),
            }
            print(&out)?;
        }
    }
    Ok(if opens.is_ok() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    })
}

/// The environment's SOPS file opened in memory (core dumps off first), with the
/// keys found as `windlass secrets` finds them.
pub(super) struct EnvironmentSecrets {
    file_name: String,
    file: EncryptedFile,
    keys: Keyring,
    opened: Opened,
}

impl EnvironmentSecrets {
    pub(super) fn open(sealed: &windlass_core::secrets::Sealed) -> Result<Self, CliError> {
        let path = Path::new(&sealed.file);
        let file = EncryptedFile::parse(Format::Yaml, &sealed.text).map_err(|e| in_file(path, e))?;
        let key_args = SecretKeyArgs {
            pgp_key: env_nonempty("WINDLASS_SOPS_PGP_KEY_FILE").map(PathBuf::from),
        };
        let (keys, opened) = open_with_keys(path, &file, &key_args)?;
        Ok(EnvironmentSecrets {
            file_name: sealed.file.clone(),
            file,
            keys,
            opened,
        })
    }

    /// A sealed Secret with its values: the real Secret, in memory.
    pub(super) fn unseal(&self, sealed: &serde_json::Value) -> Result<serde_json::Value, CliError> {
        use windlass_core::render::sops::{sealed_source, unseal};
        let (secret, keys) = sealed_source(sealed).ok_or_else(|| {
            CliError::Failed(format!(
                "a Secret from {} lost its source annotation (a windlass bug; please report it)",
                self.file_name
            ))
        })?;
        let plain = self.opened.plaintext();
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let at = [
                windlass_sops::PathSegment::Key(secret.clone()),
                windlass_sops::PathSegment::Key(key.clone()),
            ];
            let text = plain.extract_text(&at).ok_or_else(|| {
                CliError::Usage(format!(
                    "{}: `{secret}.{key}` is not in the decrypted file, though its name is in the clear: the file was changed by hand\n  help: open it with `windlass secrets edit {}` and save it again",
                    self.file_name, self.file_name
                ))
            })?;
            // sops's --extract ends a non-string value with a newline; the Secret holds the value.
            let mut bytes = text.as_bytes().to_vec();
            if !matches!(plain.extract(&at), Some(windlass_sops::Value::Str(_))) && bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
            values.push((key, bytes));
        }
        Ok(unseal(sealed, values))
    }

    /// A Secret manifest (YAML) as a SOPS file Flux's kustomize-controller decrypts:
    /// `data`/`stringData` encrypted to the environment file's age recipients. When
    /// `previous` (the same file of an earlier render) opens with the local keys, an
    /// unchanged manifest keeps it byte for byte and a changed one keeps the
    /// ciphertext of every unchanged value.
    pub(super) fn encrypt_manifest(&self, yaml: &str, previous: Option<&str>) -> Result<String, CliError> {
        let name = &self.file_name;
        let plain = PlainDocument::parse(Format::Yaml, yaml).map_err(|e| in_file(Path::new(name), e))?;
        if let Some(old) = previous
            .and_then(|t| EncryptedFile::parse(Format::Yaml, t).ok())
            .and_then(|f| f.open(&self.keys).ok())
        {
            if old.is_unchanged(&plain) {
                return Ok(previous.unwrap_or_default().to_string());
            }
            let file = old
                .reencrypt(&plain, jiff::Timestamp::now(), &mut rng())
                .map_err(|e| in_file(Path::new(name), e))?;
            return Ok(file.to_text());
        }
        let recipients = file_recipients(&self.file)
            .iter()
            .map(|r| AgeRecipient::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        if recipients.is_empty() {
            return Err(CliError::Usage(format!(
                "{name} has no age recipients to encrypt the GitOps tree's Secrets to\n  help: move it to age: `windlass secrets rotate --add-age age1... {name}`"
            )));
        }
        let options = EncryptOptions {
            recipients,
            rules: EncryptionRules {
                selection: Selection::EncryptedRegex("^(data|stringData)$".into()),
                mac_only_encrypted: false,
            },
        };
        let file = windlass_sops::encrypt(&plain, &options, jiff::Timestamp::now(), &mut rng())
            .map_err(|e| in_file(Path::new(name), e))?;
        Ok(file.to_text())
    }
}

/// `up` and `diff`: the Secrets of the selected units that come from the
/// environment's SOPS file, decrypted in memory (core dumps off first) and put
/// beside their sealed form in `ApplyUnit::secrets`. Nothing is decrypted when no
/// selected unit has one. The keys are found as `windlass secrets` finds them.
pub(super) fn unseal_units(
    platform: &windlass_core::model::Platform,
    units: &mut [windlass_cluster::ApplyUnit],
) -> Result<(), CliError> {
    use windlass_core::render::sops::is_sealed;
    let wanted = units.iter().any(|u| u.objects.iter().any(is_sealed));
    let Some(sealed) = platform.sealed.as_ref().filter(|_| wanted) else {
        return Ok(());
    };
    let secrets = EnvironmentSecrets::open(sealed)?;
    for unit in units.iter_mut() {
        let real: Vec<serde_json::Value> = unit
            .objects
            .iter()
            .filter(|o| is_sealed(o))
            .map(|o| secrets.unseal(o))
            .collect::<Result<_, _>>()?;
        unit.secrets.extend(real);
    }
    Ok(())
}
