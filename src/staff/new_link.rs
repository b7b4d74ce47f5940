use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::parts::StaffOnly;
use crate::base::who::DocType;
use crate::documents::table::{date_text, doc_type_label};
use crate::i18n::*;
use crate::staff::api::staff_new_link;
use crate::staff::model::NewLinkView;
use crate::ui::error_view::ErrorView;

/// `/manage/customers/{id}/share`: the form that creates a portal link. A refused form comes
/// back here with every value it had (in the URL) and the reason.
#[component]
pub fn NewLinkPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <NewLinkScreen />
        </StaffOnly>
    }
}

#[component]
fn NewLinkScreen() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let form = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        staff_new_link,
    );
    // Read here, outside the Suspense: a refused form comes back as a new page load.
    let values = prefill();
    view! {
        <Title text=t_string!(i18n, link_create).to_string() />
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || {
                let values = values.clone();
                Suspend::new(async move {
                    match form.await {
                        Ok(form) => view! { <NewLinkForm form values /> }.into_any(),
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The values the form starts with: what a refused submission sent, else the defaults.
#[derive(Clone, Debug, Default)]
struct Prefill {
    error: Option<String>,
    scope_order: bool,
    order: Option<String>,
    types: Vec<String>,
    days: String,
    max_opens: String,
    label: String,
    recipient: String,
    locale: String,
}

fn prefill() -> Prefill {
    let query = use_query_map();
    let query = query.read_untracked();
    let get = |key: &str| query.get(key).unwrap_or_default();
    let order = query.get("order").filter(|o| !o.is_empty());
    Prefill {
        error: query.get("error"),
        scope_order: query.get("scope").map_or(order.is_some(), |s| s == "order"),
        order,
        types: query.get_all("types").unwrap_or_default(),
        days: get("days"),
        max_opens: get("max_opens"),
        label: get("label"),
        recipient: get("recipient"),
        locale: get("locale"),
    }
}

#[component]
fn NewLinkForm(form: NewLinkView, values: Prefill) -> impl IntoView {
    let i18n = use_i18n();
    let days = if values.days.is_empty() {
        form.default_days.to_string()
    } else {
        values.days.clone()
    };
    let customer = form.customer.clone();
    let action = format!("/manage/customers/{}/share", customer.id);
    let error = values.error.as_deref().map(|code| {
        let text = match code {
            "days" => t_string!(i18n, link_form_error_days),
            "max_opens" => t_string!(i18n, link_form_error_max_opens),
            "types" => t_string!(i18n, link_form_error_types),
            "label" => t_string!(i18n, link_form_error_label),
            "recipient" => t_string!(i18n, link_form_error_recipient),
            "order" => t_string!(i18n, link_form_error_order),
            "unavailable" => t_string!(i18n, error_unavailable_body),
            _ => t_string!(i18n, error_body),
        };
        view! {
            <p class="alert" role="alert">
                {text}
            </p>
        }
    });
    let locale_now = i18n.get_locale_untracked().as_str().to_owned();
    let chosen_locale = if values.locale.is_empty() {
        locale_now
    } else {
        values.locale.clone()
    };
    let max_days = form.max_days;
    let intro_name = customer.name.clone();
    view! {
        <p class="breadcrumb">
            <A href="/manage">{t!(i18n, staff_title)}</A>
            " › "
            <A href=format!("/manage/customers/{}", customer.id)>{customer.name.clone()}</A>
        </p>
        <section class="panel" aria-labelledby="share-title">
            <h1 id="share-title">{t!(i18n, link_create)}</h1>
            <p>{t!(i18n, link_form_intro, name = move || intro_name.clone())}</p>
            {error}
            <form class="stack share-form" method="post" action=action>
                <fieldset>
                    <legend>{t!(i18n, link_form_scope)}</legend>
                    <div class="choice">
                        <input type="radio" id="scope-all" name="scope" value="all" checked=!values.scope_order />
                        <label for="scope-all">{t!(i18n, scope_all)}</label>
                    </div>
                    <div class="choice">
                        <input type="radio" id="scope-order" name="scope" value="order" checked=values.scope_order />
                        <label for="scope-order">{t!(i18n, link_form_scope_order)}</label>
                    </div>
                    <label for="share-order">{t!(i18n, col_order)}</label>
                    <select id="share-order" name="order">
                        <option value="">{t!(i18n, link_form_choose_order)}</option>
                        {form
                            .orders
                            .iter()
                            .map(|o| {
                                let text = format!(
                                    "{} · {}",
                                    o.id,
                                    date_text(i18n, o.created.as_deref()),
                                );
                                view! {
                                    <option value=o.id.clone() selected=values.order.as_deref() == Some(o.id.as_str())>
                                        {text}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </fieldset>
                <fieldset>
                    <legend>{t!(i18n, link_form_types)}</legend>
                    <p class="muted">{t!(i18n, link_form_types_hint)}</p>
                    {DocType::ALL
                        .iter()
                        .map(|&t| {
                            let id = format!("type-{}", t.as_str());
                            let checked = values.types.iter().any(|v| v == t.as_str());
                            view! {
                                <div class="choice">
                                    <input type="checkbox" id=id.clone() name="types" value=t.as_str() checked=checked />
                                    <label for=id>{doc_type_label(i18n, t)}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <label for="share-days">{t!(i18n, link_form_days)}</label>
                <input
                    id="share-days"
                    name="days"
                    type="number"
                    inputmode="numeric"
                    min="1"
                    max=max_days.to_string()
                    value=days
                    required
                    aria-describedby="share-days-hint"
                />
                <p id="share-days-hint" class="muted">
                    {t!(i18n, link_form_days_hint, max = move || max_days)}
                </p>
                <label for="share-max-opens">{t!(i18n, link_form_max_opens)}</label>
                <input
                    id="share-max-opens"
                    name="max_opens"
                    type="number"
                    inputmode="numeric"
                    min="1"
                    max="1000"
                    value=values.max_opens.clone()
                    aria-describedby="share-max-opens-hint"
                />
                <p id="share-max-opens-hint" class="muted">{t!(i18n, link_form_max_opens_hint)}</p>
                <label for="share-label">{t!(i18n, link_form_label)}</label>
                <input id="share-label" name="label" type="text" maxlength="100" value=values.label.clone() />
                <label for="share-recipient">{t!(i18n, link_form_recipient)}</label>
                <input
                    id="share-recipient"
                    name="recipient"
                    type="email"
                    maxlength="254"
                    autocomplete="off"
                    value=values.recipient.clone()
                    aria-describedby="share-recipient-hint"
                />
                <p id="share-recipient-hint" class="muted">{t!(i18n, link_form_recipient_hint)}</p>
                <label for="share-locale">{t!(i18n, link_form_locale)}</label>
                <select id="share-locale" name="locale">
                    <option value="en" selected=chosen_locale == "en">"English"</option>
                    <option value="de" selected=chosen_locale == "de">"Deutsch"</option>
                </select>
                <button type="submit" class="button">{t!(i18n, link_form_submit)}</button>
            </form>
        </section>
    }
}
