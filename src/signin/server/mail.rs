//! The sign-in mail.

use leptos_i18n::Locale as _;

use crate::base::server::mail::{Composed, Mail};
use crate::i18n::Locale;

/// The sign-in mail, in the customer's language, as text and HTML.
///
/// The mail texts mark their blanks as `%name%`: they are filled here, on the server, where
/// the translation macros offer no interpolation into plain strings.
pub fn sign_in_mail(
    brand: &crate::base::server::config::Brand,
    to: &str,
    name: &str,
    link: &str,
    code: &str,
    locale: Locale,
) -> Mail {
    use leptos_i18n::td_string;
    let fill = |text: &str| {
        text.replace("%brand%", &brand.name)
            .replace("%name%", name)
            .replace("%code%", code)
    };
    Composed {
        brand,
        lang: locale.as_str(),
        to,
        subject: fill(td_string!(locale, mail_subject)),
        before: vec![
            fill(td_string!(locale, mail_greeting)),
            fill(td_string!(locale, mail_intro)),
        ],
        link,
        button: td_string!(locale, mail_button).to_string(),
        after: vec![
            fill(td_string!(locale, mail_code)),
            format!(
                "{}\n{}",
                td_string!(locale, mail_expiry),
                td_string!(locale, mail_ignore)
            ),
        ],
    }
    .into_mail()
}
