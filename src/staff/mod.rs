//! The account managers' screens, under `/manage`: find a customer, see their documents,
//! create, revoke and extend portal links, read the audit log; and the `folio staff` command
//! that manages who is on the staff. Each page renders only for a staff session; anyone else
//! gets the not-found page, and the server functions behind the pages check again on their own.

pub mod api;
pub mod archives;
pub mod audit;
pub mod customer;
pub mod home;
pub mod link;
pub mod links;
pub mod model;
pub mod new_link;
pub mod parts;

#[cfg(feature = "ssr")]
pub mod server;
