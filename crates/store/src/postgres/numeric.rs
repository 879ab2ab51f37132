//! PostgreSQL's binary NUMERIC, decoded straight into a [`Decimal`].
//!
//! The wire value is four 16-bit big-endian header fields — `ndigits`, `weight`,
//! `sign`, `dscale` — then `ndigits` base-10,000 digits, most significant first.
//! The value is `Σ digit[i] × 10000^(weight − i)`, shown with `dscale` decimal places.
//! PostgreSQL drops trailing zero digits, and the last digit group after the point
//! may hold zeros beyond `dscale` (0.5 is the one digit 5000 with weight −1).
//!
//! sqlx decodes NUMERIC through a general bignum path; a ledger export decodes three
//! per row, millions of rows, so this exact integer path (an `i128` accumulator, one
//! power-of-ten scaling) is its own function, tested against sqlx's decoder.

use rust_decimal::Decimal;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgRow, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Postgres, Row};

const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;

/// The largest scale a [`Decimal`] holds.
const MAX_SCALE: u32 = 28;

/// Decodes one binary NUMERIC. NaN, ±infinity, values beyond a [`Decimal`] and
/// malformed bytes are errors (a ledger amount is none of those).
pub fn decode(bytes: &[u8]) -> Result<Decimal, String> {
    let field = |at: usize| -> Result<u16, String> {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| format!("NUMERIC of {} bytes is truncated", bytes.len()))
    };
    let ndigits = usize::from(field(0)?);
    let weight = i64::from(field(2)? as i16);
    let sign = field(4)?;
    let dscale = u32::from(field(6)?);
    if bytes.len() != 8 + 2 * ndigits {
        return Err(format!(
            "NUMERIC of {ndigits} digits in {} bytes",
            bytes.len()
        ));
    }
    if sign != POSITIVE && sign != NEGATIVE {
        return Err(format!("NUMERIC sign {sign:#06x} is not a finite number"));
    }
    if dscale > MAX_SCALE {
        return Err(format!("NUMERIC scale {dscale} exceeds {MAX_SCALE}"));
    }
    let overflow = || "NUMERIC does not fit a decimal".to_string();
    let mut digits: i128 = 0;
    for i in 0..ndigits {
        let digit = field(8 + 2 * i)?;
        if digit > 9999 {
            return Err(format!("NUMERIC digit {digit} is not base 10000"));
        }
        digits = digits
            .checked_mul(10_000)
            .and_then(|d| d.checked_add(i128::from(digit)))
            .ok_or_else(overflow)?;
    }
    // value = digits × 10^exponent; the mantissa at `dscale` places is
    // digits × 10^(exponent + dscale).
    let exponent = 4 * (weight + 1 - ndigits as i64);
    let shift = exponent + i64::from(dscale);
    let mantissa = if digits == 0 {
        0
    } else if shift >= 0 {
        let factor = u32::try_from(shift)
            .ok()
            .and_then(|s| 10i128.checked_pow(s))
            .ok_or_else(overflow)?;
        digits.checked_mul(factor).ok_or_else(overflow)?
    } else {
        let divisor = u32::try_from(-shift)
            .ok()
            .and_then(|s| 10i128.checked_pow(s))
            .ok_or_else(overflow)?;
        if digits % divisor != 0 {
            return Err("NUMERIC has digits beyond its scale".into());
        }
        digits / divisor
    };
    let signed = if sign == NEGATIVE {
        -mantissa
    } else {
        mantissa
    };
    Decimal::try_from_i128_with_scale(signed, dscale).map_err(|_| overflow())
}

/// A NUMERIC column read through [`decode`]: `row.try_get::<Amount, _>(column)`
/// instead of `Decimal`, on the paths that read many rows (exports, book recovery,
/// accrual pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl sqlx::Type<Postgres> for Amount {
    fn type_info() -> PgTypeInfo {
        <Decimal as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for Amount {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => Ok(Amount(decode(value.as_bytes()?)?)),
            PgValueFormat::Text => Ok(Amount(value.as_str()?.parse()?)),
        }
    }
}

/// The NUMERIC `column` of `row` as a [`Decimal`], through [`decode`].
pub(crate) fn amount(row: &PgRow, column: &str) -> Result<Decimal, sqlx::Error> {
    Ok(row.try_get::<Amount, _>(column)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes the header and digits as PostgreSQL sends them.
    fn wire(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        for field in [digits.len() as u16, weight as u16, sign, dscale] {
            out.extend_from_slice(&field.to_be_bytes());
        }
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn decodes_the_shapes_postgres_sends() {
        // 0.00000000 (scale kept, no digits)
        assert_eq!(
            decode(&wire(0, POSITIVE, 8, &[])).unwrap().to_string(),
            "0.00000000"
        );
        // 0.5 is one digit 5000 at weight −1
        assert_eq!(decode(&wire(-1, POSITIVE, 1, &[5000])).unwrap(), dec("0.5"));
        // 123.45678901 = 123 . 4567 8901
        assert_eq!(
            decode(&wire(0, POSITIVE, 8, &[123, 4567, 8901]))
                .unwrap()
                .to_string(),
            "123.45678901"
        );
        // −0.00012345 = 0.0001 2345 → digits 1, 2345 at weight −1
        assert_eq!(
            decode(&wire(-1, NEGATIVE, 8, &[1, 2345]))
                .unwrap()
                .to_string(),
            "-0.00012345"
        );
        // 10000 (trailing zero group dropped: one digit 1 at weight 1)
        assert_eq!(decode(&wire(1, POSITIVE, 0, &[1])).unwrap(), dec("10000"));
        // 21000000.00000001
        assert_eq!(
            decode(&wire(1, POSITIVE, 8, &[2100, 0, 0, 1]))
                .unwrap()
                .to_string(),
            "21000000.00000001"
        );
    }

    #[test]
    fn refuses_what_is_not_a_finite_decimal() {
        assert!(decode(&wire(0, 0xC000, 0, &[])).is_err()); // NaN
        assert!(decode(&wire(0, 0xD000, 0, &[])).is_err()); // +infinity
        assert!(decode(&[0, 1, 0, 0]).is_err()); // truncated header
        assert!(decode(&wire(0, POSITIVE, 0, &[1])[..9]).is_err()); // truncated digit
        assert!(decode(&wire(0, POSITIVE, 0, &[10_000])).is_err()); // not base 10000
        assert!(decode(&wire(40, POSITIVE, 0, &[1])).is_err()); // 10^160
        assert!(decode(&wire(-1, POSITIVE, 1, &[5500])).is_err()); // 0.55 at scale 1
    }
}
