//! Reusable UI pieces.

pub mod copy_button;
pub mod demo_banner;
pub mod document_table;
pub mod error_view;
pub mod format;
pub mod http_status;
pub mod link_banner;
pub mod locale_switch;
pub mod pager;
pub mod site_footer;
pub mod site_header;
pub mod view_text;
