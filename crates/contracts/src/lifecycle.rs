//! A contract's life cycle: pending → active → completed | terminated, and
//! pending → cancelled. Any other move is an error.

use serde::{Deserialize, Serialize};

/// Where a contract is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Agreed, not yet started.
    Pending,
    /// Running: hash power is being delivered.
    Active,
    /// Ran its full term.
    Completed,
    /// Called off before it started.
    Cancelled,
    /// Ended early while running (e.g. the rig was withdrawn).
    Terminated,
}

/// An illegal move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a contract cannot go from {from:?} to {to:?}")]
pub struct IllegalTransition {
    /// From.
    pub from: ContractStatus,
    /// To.
    pub to: ContractStatus,
}

impl ContractStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractStatus::Pending => "pending",
            ContractStatus::Active => "active",
            ContractStatus::Completed => "completed",
            ContractStatus::Cancelled => "cancelled",
            ContractStatus::Terminated => "terminated",
        }
    }

    /// Moves to `to` if the life cycle allows it.
    pub fn transition(self, to: ContractStatus) -> Result<ContractStatus, IllegalTransition> {
        use ContractStatus::*;
        match (self, to) {
            (Pending, Active)
            | (Pending, Cancelled)
            | (Active, Completed)
            | (Active, Terminated) => Ok(to),
            _ => Err(IllegalTransition { from: self, to }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ContractStatus::{self, *};

    #[test]
    fn only_the_documented_moves_are_allowed() {
        let all = [Pending, Active, Completed, Cancelled, Terminated];
        let allowed = [
            (Pending, Active),
            (Pending, Cancelled),
            (Active, Completed),
            (Active, Terminated),
        ];
        for from in all {
            for to in all {
                let ok = allowed.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), ok, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn names_are_stable() {
        let names: Vec<&str> = [Pending, Active, Completed, Cancelled, Terminated]
            .map(ContractStatus::as_str)
            .into();
        assert_eq!(
            names,
            ["pending", "active", "completed", "cancelled", "terminated"]
        );
    }
}
