//! Operator commands beyond `serve`, one module each.

pub mod user;
