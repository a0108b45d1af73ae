//! `windlass completions SHELL`: a completion script generated from the same
//! clap definitions the binary parses with, so it never drifts from the flags.

use super::ExitStatus;
use crate::cli::{CompletionsArgs, Shell, command};
use crate::error::CliError;
use crate::output::print;

pub fn run(args: &CompletionsArgs) -> Result<ExitStatus, CliError> {
    print(&script(args.shell))?;
    Ok(ExitStatus::Success)
}

pub fn script(shell: Shell) -> String {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "windlass", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_naming_every_subcommand() {
        let subcommands: Vec<String> = command().get_subcommands().map(|s| s.get_name().to_string()).collect();
        assert_eq!(
            subcommands,
            [
                "init",
                "render",
                "schema",
                "up",
                "diff",
                "status",
                "rollback",
                "down",
                "check",
                "doctor",
                "secrets",
                "completions",
                "man"
            ]
        );
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell] {
            let script = script(shell);
            for sub in &subcommands {
                assert!(script.contains(sub.as_str()), "{shell:?} completions lack `{sub}`");
            }
            assert!(script.contains("lock-timeout"), "{shell:?} completions lack flags");
            for nested in ["encrypt", "decrypt", "edit", "rotate", "rm-age", "add-age"] {
                assert!(script.contains(nested), "{shell:?} completions lack `secrets {nested}`");
            }
        }
        assert!(script(Shell::Bash).contains("complete -F _windlass"));
    }
}
