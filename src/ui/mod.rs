//! The components that pages of every feature use.

pub mod copy_button;
pub mod demo_banner;
pub mod error_view;
pub mod format;
pub mod locale_switch;
pub mod not_found;
pub mod pager;
pub mod site_footer;
pub mod site_header;
pub mod view_text;
