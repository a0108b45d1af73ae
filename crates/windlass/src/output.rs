//! The only place the CLI writes to stdout. A closed pipe (`| head`) ends the
//! program quietly with success, as ripgrep does; any other write failure is an error.

use std::io::{self, Write};

use crate::error::CliError;

pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(source) => Err(CliError::Write {
            path: "standard output".into(),
            source,
        }),
    }
}
