use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::*;
use crate::signin::api::get_outbox;
use crate::ui::error_view::ErrorView;

/// `/dev/outbox`: in demo mode, the mail Folio sent. Not found anywhere else.
#[component]
pub fn OutboxPage() -> impl IntoView {
    let i18n = use_i18n();
    let messages = Resource::new(|| (), |_| get_outbox());
    view! {
        <Title text=t_string!(i18n, outbox_title).to_string() />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match messages.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(messages) => {
                        view! {
                            <section aria-labelledby="outbox-title">
                                <h1 id="outbox-title">{t!(i18n, outbox_title)}</h1>
                                <p class="muted">{t!(i18n, outbox_intro)}</p>
                                {messages.is_empty().then(|| view! { <p>{t!(i18n, outbox_empty)}</p> })}
                                <ol class="outbox">
                                    {messages
                                        .into_iter()
                                        .map(|message| {
                                            let link = message
                                                .text
                                                .split_whitespace()
                                                .find(|w| w.starts_with("http"))
                                                .map(str::to_owned);
                                            let to = message.to.clone();
                                            view! {
                                                <li class="panel">
                                                    <h2>{message.subject}</h2>
                                                    <p class="muted">{t!(i18n, outbox_to, to = move || to.clone())}</p>
                                                    {link.map(|href| view! { <p><a href=href.clone()>{href.clone()}</a></p> })}
                                                    <pre>{message.text}</pre>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
