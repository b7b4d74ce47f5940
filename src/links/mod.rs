//! Portal links, from the recipient's side: the landing page, the link session and its banner,
//! the page that says a link has ended, and the customer's page of who opened their links.
//! The staff's side (creating, revoking, extending) is in [`crate::staff`].

pub mod access;
pub mod api;
pub mod banner;
pub mod ended;
pub mod landing;
pub mod model;

#[cfg(feature = "ssr")]
pub mod server;
