//! `windlass schema`: the JSON Schema of windlass.yaml.

use super::ExitStatus;

use crate::error::CliError;
use crate::output::print;

pub fn run() -> Result<ExitStatus, CliError> {
    let schema = windlass_core::spec::json_schema();
    let text = serde_json::to_string_pretty(&schema).map_err(|e| CliError::Usage(e.to_string()))?;
    print(&format!("{text}\n"))?;
    Ok(ExitStatus::Success)
}
