//! The transactional emails, each as a subject, a plain-text body and an HTML body.
//! Rendered when the email is written to the outbox, so what is sent is exactly
//! what was decided in the transaction. Values from users are HTML-escaped.

use chrono::{DateTime, Utc};

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// text/plain body.
    pub text: String,
    /// text/html body.
    pub html: String,
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_page(body: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">{body}\
         <p style=\"color:#777\">— hashmarket</p></body></html>"
    )
}

/// "Verify your email": the one-time token and a link carrying it.
pub fn verify_email(public_url: &str, token: &str, ttl_hours: i64) -> Rendered {
    let link = format!("{public_url}/verify-email?token={token}");
    Rendered {
        subject: "Verify your email for hashmarket".into(),
        text: format!(
            "Welcome to hashmarket.\n\nConfirm your email address by opening\n{link}\n\n\
             or by sending this token to POST /v1/auth/verify-email:\n{token}\n\n\
             The token works once and for {ttl_hours} hours. If you did not sign up, ignore this email.\n"
        ),
        html: html_page(&format!(
            "<p>Welcome to hashmarket.</p><p><a href=\"{link}\">Confirm your email address</a></p>\
             <p>or send this token to <code>POST /v1/auth/verify-email</code>:<br><code>{token}</code></p>\
             <p>The token works once and for {ttl_hours} hours. If you did not sign up, ignore this email.</p>",
            link = escape_html(&link),
            token = escape_html(token),
        )),
    }
}

/// "A new API key was created": what it can do, so the owner notices one they
/// did not make.
pub fn api_key_created(
    label: &str,
    key: &str,
    scopes: &str,
    created_at: DateTime<Utc>,
    rotated_from: Option<&str>,
) -> Rendered {
    let how = match rotated_from {
        Some(old) => format!(" (rotated from {old})"),
        None => String::new(),
    };
    Rendered {
        subject: format!("New hashmarket API key: {label}"),
        text: format!(
            "A new API key was created on your account{how}.\n\n\
             Label:   {label}\nKey:     {key}\nScopes:  {scopes}\nCreated: {created_at}\n\n\
             If this was not you, revoke it at once (DELETE /v1/api-keys/{{id}}) and change your password.\n"
        ),
        html: html_page(&format!(
            "<p>A new API key was created on your account{how}.</p><table>\
             <tr><td>Label</td><td>{label}</td></tr><tr><td>Key</td><td><code>{key}</code></td></tr>\
             <tr><td>Scopes</td><td>{scopes}</td></tr><tr><td>Created</td><td>{created_at}</td></tr></table>\
             <p>If this was not you, revoke it at once and change your password.</p>",
            how = escape_html(&how),
            label = escape_html(label),
            key = escape_html(key),
            scopes = escape_html(scopes),
        )),
    }
}

/// The terms of a contract, formatted for people.
pub struct ContractTerms<'a> {
    /// Contract id.
    pub id: &'a str,
    /// Market id.
    pub market: &'a str,
    /// "10 TH/s".
    pub hash_rate: &'a str,
    /// Price per unit per day, with its asset.
    pub price: &'a str,
    /// Cost, with its asset.
    pub cost: &'a str,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// End (UTC).
    pub ends_at: DateTime<Utc>,
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// "Your contract has started": to the buyer (hash power bought) or the seller
/// (hash power sold, the rig must deliver it).
pub fn contract_started(terms: &ContractTerms<'_>, buyer: bool) -> Rendered {
    let (role, duty) = if buyer {
        (
            "You bought",
            "Mining revenue is credited as the rig delivers; any undelivered part of the cost is refunded at the end.",
        )
    } else {
        (
            "You sold",
            "Keep the rig delivering: you are paid as it delivers, and undelivered hash rate is refunded to the buyer.",
        )
    };
    let rows = [
        ("Contract", terms.id.to_string()),
        ("Market", terms.market.to_string()),
        ("Hash rate", terms.hash_rate.to_string()),
        ("Price", terms.price.to_string()),
        ("Cost", terms.cost.to_string()),
        ("Starts", utc(terms.starts_at)),
        ("Ends", utc(terms.ends_at)),
    ];
    let text_rows: String = rows.iter().map(|(k, v)| format!("{k:<10} {v}\n")).collect();
    let html_rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><td>{k}</td><td>{}</td></tr>", escape_html(v)))
        .collect();
    Rendered {
        subject: format!("Contract started: {} {}", terms.hash_rate, terms.market),
        text: format!(
            "{role} {} on {}.\n\n{text_rows}\n{duty}\n",
            terms.hash_rate, terms.market
        ),
        html: html_page(&format!(
            "<p>{role} {} on {}.</p><table>{html_rows}</table><p>{duty}</p>",
            escape_html(terms.hash_rate),
            escape_html(terms.market)
        )),
    }
}

/// What a contract came to at its end.
pub struct ContractSummary<'a> {
    /// The contract's terms.
    pub terms: ContractTerms<'a>,
    /// Paid out of escrow to the seller (before the seller fee), with asset.
    pub paid: &'a str,
    /// Returned to the buyer, with asset.
    pub refunded: &'a str,
    /// Mining revenue credited to the buyer, with asset.
    pub revenue: &'a str,
    /// Share of the contracted hash rate delivered, e.g. "83.3%".
    pub delivered: &'a str,
}

/// "Your contract has ended": contracted vs delivered, paid, refunded.
pub fn contract_ended(summary: &ContractSummary<'_>, buyer: bool) -> Rendered {
    let t = &summary.terms;
    let rows = [
        ("Contract", t.id.to_string()),
        ("Market", t.market.to_string()),
        ("Contracted", t.hash_rate.to_string()),
        ("Delivered", summary.delivered.to_string()),
        ("Cost", t.cost.to_string()),
        ("Paid to seller", summary.paid.to_string()),
        ("Refunded", summary.refunded.to_string()),
        ("Mining revenue", summary.revenue.to_string()),
        ("Ended", utc(t.ends_at)),
    ];
    let text_rows: String = rows.iter().map(|(k, v)| format!("{k:<15} {v}\n")).collect();
    let html_rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><td>{k}</td><td>{}</td></tr>", escape_html(v)))
        .collect();
    let whose = if buyer {
        "Your purchase of"
    } else {
        "Your sale of"
    };
    Rendered {
        subject: format!("Contract ended: {} {}", t.hash_rate, t.market),
        text: format!(
            "{whose} {} on {} has ended.\n\n{text_rows}",
            t.hash_rate, t.market
        ),
        html: html_page(&format!(
            "<p>{whose} {} on {} has ended.</p><table>{html_rows}</table>",
            escape_html(t.hash_rate),
            escape_html(t.market)
        )),
    }
}

/// A withdrawal as shown in emails (amounts formatted with their asset).
pub struct WithdrawalTerms<'a> {
    /// Withdrawal id.
    pub id: &'a str,
    /// What left the available balance, fee included, e.g. "0.01000000 BTC".
    pub amount: &'a str,
    /// The network fee.
    pub fee: &'a str,
    /// What the address receives: amount − fee.
    pub net: &'a str,
    /// Destination address.
    pub address: &'a str,
}

fn withdrawal_rows(terms: &WithdrawalTerms<'_>) -> (String, String) {
    let rows = [
        ("Withdrawal", terms.id),
        ("Amount", terms.amount),
        ("Network fee", terms.fee),
        ("You receive", terms.net),
        ("Address", terms.address),
    ];
    let text: String = rows.iter().map(|(k, v)| format!("{k:<12} {v}\n")).collect();
    let html: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><td>{k}</td><td>{}</td></tr>", escape_html(v)))
        .collect();
    (text, html)
}

/// "Confirm your withdrawal": the terms, the fee, and the one-time confirmation
/// token on a line of its own.
pub fn withdrawal_requested(terms: &WithdrawalTerms<'_>, token: &str, ttl_hours: i64) -> Rendered {
    let (text_rows, html_rows) = withdrawal_rows(terms);
    Rendered {
        subject: format!("Confirm your withdrawal of {}", terms.amount),
        text: format!(
            "A withdrawal was requested from your hashmarket account.\n\n{text_rows}\n\
             To confirm it, send this token to\nPOST /v1/withdrawals/{id}/confirm\n\n{token}\n\n\
             The token works once and for {ttl_hours} hours.\n\
             If you did not ask for this, cancel the withdrawal with\n\
             DELETE /v1/withdrawals/{id}\nand change your password.\n",
            id = terms.id,
        ),
        html: html_page(&format!(
            "<p>A withdrawal was requested from your hashmarket account.</p><table>{html_rows}</table>\
             <p>To confirm it, send this token to <code>POST /v1/withdrawals/{id}/confirm</code>:<br>\
             <code>{token}</code></p><p>The token works once and for {ttl_hours} hours. If you did not \
             ask for this, cancel it and change your password.</p>",
            id = escape_html(terms.id),
            token = escape_html(token),
        )),
    }
}

/// "Your withdrawal was sent": the terms and the network transaction id.
pub fn withdrawal_completed(terms: &WithdrawalTerms<'_>, txid: &str) -> Rendered {
    let (text_rows, html_rows) = withdrawal_rows(terms);
    Rendered {
        subject: format!("Withdrawal sent: {}", terms.net),
        text: format!("Your withdrawal was sent.\n\n{text_rows}Transaction {txid}\n"),
        html: html_page(&format!(
            "<p>Your withdrawal was sent.</p><table>{html_rows}\
             <tr><td>Transaction</td><td><code>{}</code></td></tr></table>",
            escape_html(txid)
        )),
    }
}

/// "Your withdrawal was rejected": the reason; the whole amount is available again.
pub fn withdrawal_rejected(terms: &WithdrawalTerms<'_>, reason: &str) -> Rendered {
    let (text_rows, html_rows) = withdrawal_rows(terms);
    Rendered {
        subject: format!("Withdrawal rejected: {}", terms.amount),
        text: format!(
            "Your withdrawal was rejected and {} is available in your account again.\n\n\
             {text_rows}Reason      {reason}\n",
            terms.amount
        ),
        html: html_page(&format!(
            "<p>Your withdrawal was rejected and {} is available in your account again.</p>\
             <table>{html_rows}<tr><td>Reason</td><td>{}</td></tr></table>",
            escape_html(terms.amount),
            escape_html(reason)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_values_are_escaped_in_html() {
        let mail = api_key_created("<script>x</script>", "hmk_1", "read", Utc::now(), None);
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.text.contains("<script>x</script>"));
    }

    #[test]
    fn the_verification_email_carries_the_token() {
        let mail = verify_email("http://127.0.0.1:8080", "abc123", 48);
        assert!(mail.text.contains("abc123"));
        assert!(mail.html.contains("token=abc123"));
    }

    #[test]
    fn withdrawal_emails_carry_token_txid_and_reason_escaped() {
        let terms = WithdrawalTerms {
            id: "w1",
            amount: "0.01000000 BTC",
            fee: "0.00010000 BTC",
            net: "0.00990000 BTC",
            address: "<bc1q>",
        };
        let token = "ab".repeat(32);
        let mail = withdrawal_requested(&terms, &token, 24);
        assert!(mail.text.lines().any(|l| l == token));
        assert!(mail.text.contains("0.00990000 BTC") && mail.text.contains("0.00010000 BTC"));
        assert!(mail.html.contains("&lt;bc1q&gt;") && !mail.html.contains("<bc1q>"));
        let sent = withdrawal_completed(&terms, "tx<1>");
        assert!(sent.text.contains("tx<1>") && sent.html.contains("tx&lt;1&gt;"));
        let rejected = withdrawal_rejected(&terms, "sanctioned <address>");
        assert!(rejected.text.contains("sanctioned <address>"));
        assert!(rejected.html.contains("sanctioned &lt;address&gt;"));
    }
}
