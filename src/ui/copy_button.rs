use leptos::prelude::*;

use crate::i18n::*;

/// A button that copies `text` to the clipboard. It appears only once the page is
/// interactive: without JavaScript there is nothing it could do, and the text beside it can
/// be selected and copied by hand.
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
    let i18n = use_i18n();
    let interactive = RwSignal::new(false);
    let copied = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    move || {
        let copy = copy.clone();
        interactive.get().then(|| {
            view! {
                <button type="button" class="button secondary copy-button" on:click=copy>
                    {move || {
                        if copied.get() {
                            t_string!(i18n, copy_done)
                        } else {
                            t_string!(i18n, copy_button)
                        }
                    }}
                </button>
                <span class="visually-hidden" role="status">
                    {move || copied.get().then(|| t_string!(i18n, copy_done))}
                </span>
            }
        })
    }
}
