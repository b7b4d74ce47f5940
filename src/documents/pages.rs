//! Which addresses are a customer's document pages: the pages the page cache may keep.

/// The pages that show a customer's documents, rendered from what [`super::api`] serves.
pub fn is_customer_page(path: &str) -> bool {
    matches!(path, "/" | "/documents" | "/orders" | "/invoices")
        || path
            .strip_prefix("/orders/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_customer_pages_are_kept() {
        for path in ["/", "/documents", "/orders", "/invoices", "/orders/ord_1"] {
            assert!(is_customer_page(path), "{path}");
        }
        for path in [
            "/login",
            "/manage",
            "/manage/customers/c1",
            "/orders/",
            "/orders/a/b",
            "/files/f1/download",
            "/s/token",
            "/access",
            "/api/list_documents",
        ] {
            assert!(!is_customer_page(path), "{path}");
        }
    }
}
