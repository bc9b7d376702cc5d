//! Signal names as Docker takes them: `SIGTERM`, `TERM`, `15`.

use std::str::FromStr;

use nix::sys::signal::Signal;

use crate::error::{DaemonError, Result};

/// Parses a signal name or number (moby's `signal.ParseSignal`).
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n)
            .map(|sig| sig as i32)
            .map_err(|_| DaemonError::invalid(format!("Invalid signal: {s}")));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&name)
        .map(|sig| sig as i32)
        .map_err(|_| DaemonError::invalid(format!("Invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert_eq!(parse_signal("kill").unwrap(), 9);
        assert_eq!(parse_signal("10").unwrap(), 10);
        assert_eq!(
            parse_signal("SIGWHAT").unwrap_err().to_string(),
            "Invalid signal: SIGWHAT"
        );
        assert!(parse_signal("0").is_err());
    }
}
