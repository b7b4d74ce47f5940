//! CSV as accountants' tools read it: RFC 4180 (comma-separated, CRLF line ends, a cell in
//! double quotes when it holds a comma, a quote or a line break, its quotes doubled), UTF-8
//! with a byte order mark so that spreadsheets do not guess another encoding, and text that
//! a spreadsheet would run as a formula made inert (OWASP's "CSV injection").

/// A CSV document being written, row by row.
#[derive(Debug)]
pub(super) struct Csv {
    text: String,
}

/// One cell: text from anywhere (names, ids, statuses), or a number Folio made itself.
#[derive(Clone, Copy, Debug)]
pub(super) enum Cell<'a> {
    Text(&'a str),
    /// A plain decimal (`-12.50`) or a whole number: written as it is, so that a negative
    /// amount stays a number.
    Number(&'a str),
}

impl Csv {
    /// A document that starts with its header row.
    pub(super) fn with_header(header: &[&str]) -> Self {
        let mut csv = Csv {
            text: String::from("\u{feff}"),
        };
        let cells: Vec<Cell> = header.iter().map(|h| Cell::Text(h)).collect();
        csv.row(&cells);
        csv
    }

    pub(super) fn row(&mut self, cells: &[Cell]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match *cell {
                Cell::Number(n) if is_plain_number(n) => self.text.push_str(n),
                Cell::Number(n) | Cell::Text(n) => push_text(&mut self.text, n),
            }
        }
        self.text.push_str("\r\n");
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }
}

/// Text cells that start like a formula (`=`, `+`, `-`, `@`, tab or carriage return) get a
/// leading apostrophe, which spreadsheets show as text and never evaluate.
fn push_text(out: &mut String, text: &str) {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || text.contains([',', '"', '\n', '\r']);
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in text.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// `-?digits(.digits)?`: what may go into a cell unquoted as a number.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_row(cells: &[Cell]) -> String {
        let mut csv = Csv::with_header(&["h"]);
        csv.row(cells);
        let text = String::from_utf8(csv.into_bytes()).unwrap();
        text.strip_prefix("\u{feff}h\r\n").unwrap().to_owned()
    }

    #[test]
    fn starts_with_a_byte_order_mark_and_the_header() {
        let csv = Csv::with_header(&["name", "amount"]);
        assert_eq!(csv.into_bytes(), b"\xef\xbb\xbfname,amount\r\n");
    }

    #[test]
    fn cells_are_quoted_only_when_they_must_be() {
        assert_eq!(
            one_row(&[Cell::Text("plain"), Cell::Text("a,b")]),
            "plain,\"a,b\"\r\n"
        );
        assert_eq!(
            one_row(&[Cell::Text("say \"hi\"")]),
            "\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(one_row(&[Cell::Text("two\nlines")]), "\"two\nlines\"\r\n");
        assert_eq!(one_row(&[Cell::Text("Müller GmbH")]), "Müller GmbH\r\n");
    }

    #[test]
    fn formulas_are_made_inert() {
        for text in [
            "=1+1",
            "+49 30",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"x\")",
        ] {
            let cell = one_row(&[Cell::Text(text)]);
            assert!(cell.starts_with("\"'"), "{text:?} gave {cell:?}");
        }
    }

    #[test]
    fn numbers_stay_numbers_even_when_negative() {
        assert_eq!(
            one_row(&[Cell::Number("-12.50"), Cell::Number("3")]),
            "-12.50,3\r\n"
        );
        // What is not a plain number is text, and made inert like any text.
        assert_eq!(one_row(&[Cell::Number("=1")]), "\"'=1\"\r\n");
        assert_eq!(one_row(&[Cell::Number("1,5")]), "\"1,5\"\r\n");
    }
}
