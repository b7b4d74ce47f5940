use leptos::prelude::*;
use leptos_i18n::Locale as _;
use leptos_router::hooks::use_location;

use crate::i18n::*;

/// Switches the page's language.
///
/// Without JavaScript it is a form that posts to `/locale`, which stores the choice in a cookie
/// and sends the browser back to the same page. With JavaScript the click switches the language
/// in place; the i18n context stores the same cookie.
#[component]
pub fn LocaleSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        let pathname = location.pathname.get();
        match search.trim_start_matches('?') {
            "" => pathname,
            query => format!("{pathname}?{query}"),
        }
    };

    let buttons = Locale::get_all()
        .iter()
        .map(|&locale| {
            let current = move || i18n.get_locale() == locale;
            view! {
                <button
                    type="submit"
                    name="lang"
                    value=locale.as_str()
                    lang=locale.as_str()
                    aria-pressed=move || current().to_string()
                    on:click=move |ev| {
                        ev.prevent_default();
                        i18n.set_locale(locale);
                    }
                >
                    {endonym(locale)}
                </button>
            }
        })
        .collect_view();

    view! {
        <form class="locale-switch" method="post" action="/locale">
            <input type="hidden" name="next" value=here />
            <fieldset>
                <legend class="visually-hidden">{t!(i18n, language_label)}</legend>
                {buttons}
            </fieldset>
        </form>
    }
}

/// A language's name in that language: people look for their own.
fn endonym(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "English",
        Locale::de => "Deutsch",
    }
}
