//! Where rendered objects go. Today: files. (The cluster sink lives in its own crate.)

pub mod files;
