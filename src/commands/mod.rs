//! Operator commands beyond `serve`, one module each.

pub mod sign;
pub mod user;
