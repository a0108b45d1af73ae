//! The only place the CLI writes to stdout. A closed pipe (`| head`) ends the
//! program quietly with success, as ripgrep does.

use std::io::{self, Write};

/// Writes `text` to stdout; exits 0 at once if the reader went away.
pub fn print(text: &str) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}
