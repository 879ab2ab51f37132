//! Operator commands beyond `serve`, one module each.

pub mod accrue;
pub mod sign;
pub mod user;
