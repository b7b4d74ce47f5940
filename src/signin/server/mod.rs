//! Signing in by email link and code, for customers and for staff, and signing out.
//!
//! The flow, and why each step is the way it is:
//! 1. `POST /login` with an email answers the same redirect to "check your email" whatever the
//!    email, at once: the lookup and the mail happen in a background task, so neither the
//!    answer nor its timing tells whether the address belongs to a customer.
//! 2. A known, unique, active customer gets a mail with a link (a 256-bit token) and a 6-digit
//!    code. Both are stored only as hashes (the code's keyed with the session secret, since six
//!    digits are easy to guess from a plain hash), expire after 15 minutes and are single use.
//! 3. `GET /login/verify?token=` only shows a "Continue" button; the `POST` spends the token,
//!    so mail scanners that fetch links neither sign anyone in nor burn the link.
//! 4. The code is typed on the check-your-email page; five wrong codes end the attempt.
//! 5. Signing in rotates the session id and stores the principal in the session.

mod attempts;
mod flow;
mod mail;
mod request;
mod sign_out;
mod verify;

pub use attempts::{Attempt, Audience, SpendBy, MAX_CODE_TRIES};
pub use flow::{PendingSignIn, SIGN_IN_TTL_SECS};
pub use mail::sign_in_mail;
pub use request::{request_sign_in, send_sign_in, send_staff_sign_in};
pub use sign_out::{sign_out, sign_out_everywhere};
pub use verify::{link_address, verify_code, verify_link};
