//! CSV per RFC 4180, the one writer every CSV response and export uses: fields
//! separated by commas, records ended by CRLF, and a field quoted (its quotes
//! doubled) only when it holds a comma, a quote, a CR or an LF.

/// Appends one field, quoted only when it must be.
pub fn push_field(out: &mut String, value: &str) {
    // A byte scan: every special character is ASCII (and this is an export's hot loop).
    if value
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Appends one record (fields and the closing CRLF).
pub fn push_record<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    for (i, value) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, value.as_ref());
    }
    out.push_str("\r\n");
}

/// A whole document: the header record, then every row.
pub fn document(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::new();
    push_record(&mut out, header);
    for row in rows {
        push_record(&mut out, &row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_bare_and_records_end_in_crlf() {
        assert_eq!(
            document(&["a", "b"], [vec!["1".into(), "x".into()]]),
            "a,b\r\n1,x\r\n"
        );
    }

    #[test]
    fn separators_quotes_and_line_breaks_are_quoted() {
        let mut out = String::new();
        push_record(&mut out, ["a,b", "say \"hi\"", "two\r\nlines", ""]);
        assert_eq!(out, "\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\r\n");
    }
}
