//! Hash rate: an exact integer of H/s, parsed from and shown in display units.
//!
//! Stored as `u128` H/s. Parsing accepts `"120 TH/s"`, `"1.5PH/s"`, `"900 gh/s"`,
//! `"5 EH"` (units H, kH, MH, GH, TH, PH, EH, any case, with or without `/s`,
//! whitespace optional). The bound is [`HashRate::MAX_HS`] = 10^24 H/s (1 YH/s, about
//! a thousand times the whole Bitcoin network), far inside `u128`; the store further
//! bounds one rig, order or contract to `i64::MAX` H/s (9.2 EH/s).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A display unit of hash rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// H/s.
    #[serde(rename = "H/s")]
    H,
    /// kH/s = 10^3 H/s.
    #[serde(rename = "kH/s")]
    Kh,
    /// MH/s = 10^6 H/s.
    #[serde(rename = "MH/s")]
    Mh,
    /// GH/s = 10^9 H/s.
    #[serde(rename = "GH/s")]
    Gh,
    /// TH/s = 10^12 H/s.
    #[serde(rename = "TH/s")]
    Th,
    /// PH/s = 10^15 H/s.
    #[serde(rename = "PH/s")]
    Ph,
    /// EH/s = 10^18 H/s.
    #[serde(rename = "EH/s")]
    Eh,
}

impl Unit {
    /// Every unit, smallest first.
    pub const ALL: [Unit; 7] = [
        Unit::H,
        Unit::Kh,
        Unit::Mh,
        Unit::Gh,
        Unit::Th,
        Unit::Ph,
        Unit::Eh,
    ];

    /// The power of ten of H/s in one unit.
    pub fn exponent(self) -> u32 {
        match self {
            Unit::H => 0,
            Unit::Kh => 3,
            Unit::Mh => 6,
            Unit::Gh => 9,
            Unit::Th => 12,
            Unit::Ph => 15,
            Unit::Eh => 18,
        }
    }

    /// H/s in one unit.
    pub fn hs(self) -> u128 {
        10u128.pow(self.exponent())
    }

    /// The symbol shown, e.g. `TH/s`.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::H => "H/s",
            Unit::Kh => "kH/s",
            Unit::Mh => "MH/s",
            Unit::Gh => "GH/s",
            Unit::Th => "TH/s",
            Unit::Ph => "PH/s",
            Unit::Eh => "EH/s",
        }
    }

    /// Parses a unit symbol, any case, with or without `/s` (no allocation).
    pub fn parse(text: &str) -> Option<Unit> {
        let text = text.trim().as_bytes();
        let bare = match text.len().checked_sub(2).map(|i| text.split_at(i)) {
            Some((head, tail)) if tail.eq_ignore_ascii_case(b"/s") => head,
            _ => text,
        };
        Unit::ALL.into_iter().find(|u| {
            let symbol = u.symbol().as_bytes();
            symbol[..symbol.len() - 2].eq_ignore_ascii_case(bare)
        })
    }
}

/// Why a hash rate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashRateError {
    /// Nothing, or not `<number> <unit>`.
    #[error("expected a number and a unit, like \"120 TH/s\"")]
    Malformed,
    /// The unit is not one of H, kH, MH, GH, TH, PH, EH.
    #[error("unknown unit {0:?}: use H/s, kH/s, MH/s, GH/s, TH/s, PH/s or EH/s")]
    UnknownUnit(String),
    /// A minus sign.
    #[error("a hash rate cannot be negative")]
    Negative,
    /// Zero where a positive rate is needed.
    #[error("a hash rate must be positive")]
    Zero,
    /// Finer than 1 H/s.
    #[error("a hash rate is a whole number of H/s; this is a fraction of one")]
    FractionOfHash,
    /// Above [`HashRate::MAX_HS`].
    #[error("a hash rate cannot exceed 10^24 H/s")]
    TooLarge,
}

/// An exact hash rate in H/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HashRate(u128);

impl HashRate {
    /// The largest hash rate accepted: 10^24 H/s.
    pub const MAX_HS: u128 = 1_000_000_000_000_000_000_000_000;

    /// A hash rate of `hs` H/s (`TooLarge` above the bound).
    pub fn from_hs(hs: u128) -> Result<HashRate, HashRateError> {
        if hs > Self::MAX_HS {
            return Err(HashRateError::TooLarge);
        }
        Ok(HashRate(hs))
    }

    /// H/s.
    pub fn hs(self) -> u128 {
        self.0
    }

    /// Parses `"<number> <unit>"`; zero is refused (a rate to trade is positive).
    pub fn parse(text: &str) -> Result<HashRate, HashRateError> {
        let rate = Self::parse_allowing_zero(text)?;
        if rate.0 == 0 {
            return Err(HashRateError::Zero);
        }
        Ok(rate)
    }

    /// Parses `"<number> <unit>"`, accepting zero (a delivery of nothing).
    pub fn parse_allowing_zero(text: &str) -> Result<HashRate, HashRateError> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or(HashRateError::Malformed)?;
        let (number, unit) = (text[..split].trim(), &text[split..]);
        let unit =
            Unit::parse(unit).ok_or_else(|| HashRateError::UnknownUnit(unit.trim().to_string()))?;
        if number.starts_with('-') {
            return Err(HashRateError::Negative);
        }
        let number = number.strip_prefix('+').unwrap_or(number);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(HashRateError::Malformed);
        }
        Self::from_parts(number, unit)
    }

    /// Exact decimal text in `unit` → H/s, without floating point or allocation:
    /// `whole × 10^exp + fraction × 10^(exp − fraction digits)`.
    fn from_parts(number: &str, unit: Unit) -> Result<HashRate, HashRateError> {
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return Err(HashRateError::Malformed);
        }
        let exponent = unit.exponent();
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > exponent as usize {
            return Err(HashRateError::FractionOfHash);
        }
        let whole = digits_value(whole)?;
        let fraction_value = digits_value(fraction)?;
        let scale = 10u128.pow(exponent - fraction.len() as u32);
        let hs = whole
            .checked_mul(unit.hs())
            .and_then(|w| w.checked_add(fraction_value * scale))
            .ok_or(HashRateError::TooLarge)?;
        HashRate::from_hs(hs)
    }

    /// The rate in `unit` as an exact decimal.
    pub fn in_unit(self, unit: Unit) -> Decimal {
        let scale = unit.exponent();
        // Both fit: hs ≤ 10^24 < 2^96, the mantissa limit of Decimal.
        Decimal::from_i128_with_scale(self.0 as i128, scale).normalize()
    }

    /// Shown in `unit`: exact, trailing zeros trimmed, e.g. `"1.5 PH/s"`.
    pub fn format(self, unit: Unit) -> String {
        format!("{} {}", self.in_unit(unit), unit.symbol())
    }
}

/// The value of a run of ASCII digits (`TooLarge` past 10^27, far above the bound).
fn digits_value(digits: &str) -> Result<u128, HashRateError> {
    let digits = digits.trim_start_matches('0');
    if digits.len() > 27 {
        return Err(HashRateError::TooLarge);
    }
    Ok(digits
        .bytes()
        .fold(0u128, |n, b| n * 10 + u128::from(b - b'0')))
}

impl fmt::Display for HashRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} H/s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(
            HashRate::parse("120 TH/s").unwrap().hs(),
            120_000_000_000_000
        );
        assert_eq!(
            HashRate::parse("1.5PH/s").unwrap().hs(),
            1_500_000_000_000_000
        );
        assert_eq!(HashRate::parse("900 gh/s").unwrap().hs(), 900_000_000_000);
        assert_eq!(
            HashRate::parse(" 5 EH ").unwrap().hs(),
            5_000_000_000_000_000_000
        );
        assert_eq!(HashRate::parse("7 H").unwrap().hs(), 7);
        assert_eq!(HashRate::parse("0.001 kH/s").unwrap().hs(), 1);
        assert_eq!(HashRate::parse("1.50 MH/s").unwrap().hs(), 1_500_000);
    }

    #[test]
    fn refuses_what_is_not_a_hash_rate() {
        assert_eq!(HashRate::parse("-1 TH/s"), Err(HashRateError::Negative));
        assert_eq!(HashRate::parse("0 TH/s"), Err(HashRateError::Zero));
        assert_eq!(HashRate::parse_allowing_zero("0 TH/s").unwrap().hs(), 0);
        assert_eq!(
            HashRate::parse("0.5 H/s"),
            Err(HashRateError::FractionOfHash)
        );
        assert_eq!(
            HashRate::parse("1.0001 kH/s"),
            Err(HashRateError::FractionOfHash)
        );
        assert!(matches!(
            HashRate::parse("12 XH/s"),
            Err(HashRateError::UnknownUnit(_))
        ));
        assert!(matches!(
            HashRate::parse("12 TH/m"),
            Err(HashRateError::UnknownUnit(_))
        ));
        assert_eq!(HashRate::parse("TH/s"), Err(HashRateError::Malformed));
        assert_eq!(HashRate::parse("12"), Err(HashRateError::Malformed));
        assert_eq!(HashRate::parse(""), Err(HashRateError::Malformed));
        assert_eq!(
            HashRate::parse("1e3 TH/s"),
            Err(HashRateError::UnknownUnit("e3 TH/s".into()))
        );
        assert_eq!(HashRate::parse("1.2.3 TH/s"), Err(HashRateError::Malformed));
        assert_eq!(
            HashRate::parse("1000001 EH/s"),
            Err(HashRateError::TooLarge)
        );
        assert_eq!(
            HashRate::parse("99999999999999999999999999999999999 EH/s"),
            Err(HashRateError::TooLarge)
        );
    }

    #[test]
    fn formats_exactly_in_the_unit() {
        let rate = HashRate::parse("1.5 PH/s").unwrap();
        assert_eq!(rate.format(Unit::Ph), "1.5 PH/s");
        assert_eq!(rate.format(Unit::Th), "1500 TH/s");
        assert_eq!(
            HashRate::from_hs(1).unwrap().format(Unit::Eh),
            "0.000000000000000001 EH/s"
        );
    }

    proptest! {
        #[test]
        fn parse_of_format_is_identity(hs in 0u128..=HashRate::MAX_HS, unit in 0usize..7) {
            let unit = Unit::ALL[unit];
            let rate = HashRate::from_hs(hs).unwrap();
            prop_assert_eq!(HashRate::parse_allowing_zero(&rate.format(unit)).unwrap(), rate);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = HashRate::parse(&text);
        }
    }
}
