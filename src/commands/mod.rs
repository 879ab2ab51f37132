//! Operator commands beyond `serve`, one module each.

pub mod accrue;
pub mod export;
pub mod sign;
pub mod user;
