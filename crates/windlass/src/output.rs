//! The only place the CLI writes to stdout. A closed pipe (`| head`) ends the
//! program quietly with success, as ripgrep does; any other write failure is an error.

use std::io::{self, Write};

use crate::error::CliError;

pub fn print(text: &str) -> Result<(), CliError> {
    print_all([text])
}

/// Writes the pieces in order, without joining them into one buffer first.
pub fn print_all(pieces: impl IntoIterator<Item = impl AsRef<str>>) -> Result<(), CliError> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let written = pieces
        .into_iter()
        .try_for_each(|p| out.write_all(p.as_ref().as_bytes()))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(source) => Err(CliError::Write {
            path: "standard output".into(),
            source,
        }),
    }
}
