//! File bodies: PDFs for invoices, contracts and documents, and tiny images for attachments.
//!
//! Bodies are described by [`Content`] and rendered only when first needed, because the demo
//! tenant has hundreds of files and start-up must stay instant.

use pdf_writer::{Content as Ops, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::util::{adler32, crc32};

/// One line of an order, as a contract lists it.
#[derive(Debug, Clone)]
pub(crate) struct ContractLine {
    pub product_name: String,
    pub sku: String,
    pub quantity: u32,
    pub unit_price: f64,
    pub contract_length: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum Content {
    Invoice {
        invoice_number: String,
        billing_period: String,
        amount: f64,
        currency: String,
        customer_name: String,
        order_id: String,
        issued_on: String,
    },
    Contract {
        order_id: String,
        customer_name: String,
        company: Option<String>,
        lines: Vec<ContractLine>,
        monthly_total: f64,
        currency: String,
        signed_on: String,
    },
    Document {
        title: String,
        lines: Vec<String>,
    },
    Png {
        width: u32,
        height: u32,
        rgb: [u8; 3],
    },
    Jpeg {
        gray: u8,
    },
    Text(String),
}

impl Content {
    pub(crate) fn render(&self) -> Vec<u8> {
        match self {
            Content::Invoice {
                invoice_number,
                billing_period,
                amount,
                currency,
                customer_name,
                order_id,
                issued_on,
            } => pdf_document(
                &format!("Invoice {invoice_number}"),
                &[
                    format!("Invoice number: {invoice_number}"),
                    format!("Billing period: {billing_period}"),
                    format!("Issued on: {issued_on}"),
                    format!("Customer: {customer_name}"),
                    format!("Order: {order_id}"),
                    String::new(),
                    format!("Amount due: {currency} {amount:.2}"),
                ],
            ),
            Content::Contract {
                order_id,
                customer_name,
                company,
                lines,
                monthly_total,
                currency,
                signed_on,
            } => {
                let mut text = vec![
                    format!("Order: {order_id}"),
                    format!("Customer: {customer_name}"),
                ];
                if let Some(company) = company {
                    text.push(format!("Company: {company}"));
                }
                text.push(format!("Signed on: {signed_on}"));
                text.push(String::new());
                text.push("Items:".to_owned());
                for l in lines {
                    text.push(format!(
                        "{} x {} ({}) - {currency} {:.2} per month, {} months",
                        l.quantity, l.product_name, l.sku, l.unit_price, l.contract_length
                    ));
                }
                text.push(String::new());
                text.push(format!("Monthly total: {currency} {monthly_total:.2}"));
                pdf_document(&format!("Rental contract for order {order_id}"), &text)
            }
            Content::Document { title, lines } => pdf_document(title, lines),
            Content::Png { width, height, rgb } => png(*width, *height, *rgb),
            Content::Jpeg { gray } => jpeg_8x8_gray(*gray),
            Content::Text(text) => text.as_bytes().to_vec(),
        }
    }
}

/// The standard Type 1 fonts only cover Latin-1, so anything else is replaced rather than
/// producing garbage glyphs.
fn pdf_text(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else {
                b'?'
            }
        })
        .collect()
}

fn pdf_document(title: &str, lines: &[String]) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page = Ref::new(3);
    let bold = Ref::new(4);
    let regular = Ref::new(5);
    let contents = Ref::new(6);
    let info = Ref::new(7);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    {
        let mut p = pdf.page(page);
        p.parent(tree)
            .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
            .contents(contents);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), bold);
        fonts.pair(Name(b"F2"), regular);
    }
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title_bytes = pdf_text(title);
    pdf.document_info(info)
        .title(TextStr(&String::from_utf8_lossy(&title_bytes)))
        .producer(TextStr("FlexPortal stand-in"));

    let mut ops = Ops::new();
    ops.begin_text();
    ops.set_font(Name(b"F1"), 18.0);
    ops.next_line(56.0, 770.0);
    ops.show(Str(&title_bytes));
    ops.set_font(Name(b"F2"), 11.0);
    ops.set_leading(16.0);
    ops.next_line(0.0, -34.0);
    for line in lines {
        ops.show(Str(&pdf_text(line)));
        ops.next_line_using_leading();
    }
    ops.end_text();
    let stream = ops.finish();
    pdf.stream(contents, &stream);
    pdf.finish()
}

/// A solid-colour RGB PNG with an uncompressed ("stored") zlib stream.
fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    // Each scanline: filter type 0 (none), then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain(rgb.iter().copied().cycle().take(width as usize * 3))
        .collect();
    let raw = row.repeat(height as usize);
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    while let Some(block) = blocks.next() {
        zlib.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, truecolour, deflate, no filter, no interlace

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &zlib[..]),
        (b"IEND", &[][..]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

/// A baseline JPEG of one 8x8 grey block. With a quantisation table of ones and one-symbol
/// Huffman tables, the entropy-coded data is just the DC value followed by end-of-block.
fn jpeg_8x8_gray(gray: u8) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // APP0 / JFIF 1.01, no thumbnail.
    out.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    // DQT: table 0, 8-bit, all ones.
    out.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, 8x8, one component (id 1, no subsampling, table 0).
    out.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
    ]);
    // The DC coefficient of a flat block is 8 * (level - 128).
    let dc = 8 * (i32::from(gray) - 128);
    let category = if dc == 0 {
        0
    } else {
        32 - dc.unsigned_abs().leading_zeros()
    };
    let magnitude_bits = if dc >= 0 {
        dc
    } else {
        dc + (1 << category) - 1
    } as u32;
    // DHT: DC table 0 with the single symbol `category` coded as "0".
    out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01]);
    out.extend_from_slice(&[0u8; 15]);
    out.push(category as u8);
    // DHT: AC table 0 with only end-of-block (0x00) coded as "0".
    out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01]);
    out.extend_from_slice(&[0u8; 15]);
    out.push(0x00);
    // SOS: one component, DC/AC tables 0, full spectral range.
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    // Bits: DC code "0", magnitude, AC EOB "0"; padded with ones.
    let mut bits: Vec<bool> = vec![false];
    for i in (0..category).rev() {
        bits.push((magnitude_bits >> i) & 1 == 1);
    }
    bits.push(false);
    while !bits.len().is_multiple_of(8) {
        bits.push(true);
    }
    for byte_bits in bits.chunks(8) {
        let byte = byte_bits
            .iter()
            .fold(0u8, |acc, &b| (acc << 1) | u8::from(b));
        out.push(byte);
        if byte == 0xFF {
            out.push(0x00);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_is_a_pdf_with_its_facts() {
        let bytes = Content::Invoice {
            invoice_number: "INV-2025-000042".into(),
            billing_period: "2025-03".into(),
            amount: 89.0,
            currency: "EUR".into(),
            customer_name: "Ben Okafor".into(),
            order_id: "ord_1".into(),
            issued_on: "2025-03-01".into(),
        }
        .render();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.ends_with(b"%%EOF") || bytes.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("INV-2025-000042"));
        assert!(text.contains("Billing period: 2025-03"));
        assert!(text.contains("EUR 89.00"));
    }

    #[test]
    fn png_has_valid_structure() {
        let bytes = png(3, 2, [10, 20, 30]);
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR length and type follow the signature.
        assert_eq!(&bytes[8..16], b"\x00\x00\x00\x0dIHDR");
        let ihdr_crc = u32::from_be_bytes(bytes[29..33].try_into().unwrap());
        assert_eq!(ihdr_crc, crc32(&bytes[12..29]));
        assert!(bytes.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn jpeg_has_markers() {
        let bytes = jpeg_8x8_gray(200);
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(bytes.ends_with(&[0xFF, 0xD9]));
        // 8 * (200 - 128) = 576: category 10; bits 0 1001000000 0, padded with ones.
        assert_eq!(&bytes[bytes.len() - 4..bytes.len() - 2], &[0x48, 0x0F]);
    }
}
