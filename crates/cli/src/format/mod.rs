//! Output formatting shared by the commands: `--format` templates, Docker's
//! tables, sizes and times.

pub mod output;
pub mod table;
pub mod template;
pub mod units;
