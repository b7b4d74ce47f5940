//! What the staff screens share: the staff-only wrapper (the not-found page for anyone else),
//! the notice an action leaves behind, and the table of portal links.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::base::error::AppError;
use crate::base::who::{LinkState, Role, SignedIn};
use crate::i18n::*;
use crate::links::banner::{scope_text, state_label};
use crate::links::model::LinkView;
use crate::ui::error_view::ErrorView;
use crate::ui::format;

/// Renders `children` for staff, the not-found page (404) for everyone else.
#[component]
pub fn StaffOnly(children: Children) -> impl IntoView {
    let staff = matches!(
        expect_context::<SignedIn>().0,
        Some(ref user) if user.role == Role::Staff
    );
    if staff {
        children().into_any()
    } else {
        view! { <ErrorView error=AppError::NotFound /> }.into_any()
    }
}

/// What a revoke or extend did, from the `notice` its redirect put in the address.
#[component]
pub fn LinkNotice(code: String) -> impl IntoView {
    let i18n = use_i18n();
    let text = match code.as_str() {
        "revoked" => t_string!(i18n, link_notice_revoked),
        "extended" => t_string!(i18n, link_notice_extended),
        "bad_days" => t_string!(i18n, link_notice_bad_days),
        _ => t_string!(i18n, link_notice_already_revoked),
    };
    view! {
        <p class="notice" role="status">
            {text}
        </p>
    }
}

/// Links as a table, each with its state and opens; `revoke_back` adds revoke and "extend by a
/// week" buttons that return to the given page.
#[component]
pub fn LinkTable(
    links: Vec<LinkView>,
    #[prop(optional)] show_customer: bool,
    #[prop(default = None)] revoke_back: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <div class="table-wrap">
            <table class="links">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_label)}</th>
                        {show_customer.then(|| view! { <th scope="col">{t!(i18n, col_customer)}</th> })}
                        <th scope="col">{t!(i18n, col_scope)}</th>
                        <th scope="col">{t!(i18n, col_created_by)}</th>
                        <th scope="col">{t!(i18n, col_state)}</th>
                        <th scope="col">{t!(i18n, col_expires)}</th>
                        <th scope="col" class="num">{t!(i18n, col_opens)}</th>
                        <th scope="col">{t!(i18n, col_last_open)}</th>
                        {revoke_back.is_some().then(|| view! { <th scope="col">{t!(i18n, col_actions)}</th> })}
                    </tr>
                </thead>
                <tbody>
                    {links
                        .into_iter()
                        .map(|link| {
                            let scope = scope_text(i18n, &link);
                            let opens = match link.max_opens {
                                Some(max) => format!("{} / {max}", link.opens),
                                None => link.opens.to_string(),
                            };
                            let last = link
                                .last_opened_at
                                .as_deref()
                                .map(|t| format::date_time(t, locale))
                                .unwrap_or_else(|| "—".to_owned());
                            let customer_href = format!("/manage/customers/{}", link.customer_id);
                            let actions = revoke_back
                                .clone()
                                .filter(|_| link.state != LinkState::Revoked)
                                .map(|back| {
                                    let label = link.label.clone();
                                    let revocable = link.state == LinkState::Active
                                        || link.state == LinkState::UsedUp;
                                    let revoke = revocable.then(|| {
                                        let label = label.clone();
                                        let back = back.clone();
                                        view! {
                                            <form method="post" action=format!("/manage/links/{}/revoke", link.id)>
                                                <input type="hidden" name="back" value=back />
                                                <button type="submit" class="link-button danger">
                                                    {t!(i18n, link_revoke)}
                                                    <span class="visually-hidden">" "{label}</span>
                                                </button>
                                            </form>
                                        }
                                    });
                                    view! {
                                        {revoke}
                                        <form method="post" action=format!("/manage/links/{}/extend", link.id)>
                                            <input type="hidden" name="back" value=back />
                                            <input type="hidden" name="days" value="7" />
                                            <button type="submit" class="link-button">
                                                {t!(i18n, link_extend_week)}
                                                <span class="visually-hidden">" "{label}</span>
                                            </button>
                                        </form>
                                    }
                                });
                            let has_actions = revoke_back.is_some();
                            view! {
                                <tr data-state=link.state.as_str()>
                                    <td>
                                        <A href=format!("/manage/links/{}", link.id)>{link.label.clone()}</A>
                                    </td>
                                    {show_customer
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <A href=customer_href>{link.customer_name.clone()}</A>
                                                </td>
                                            }
                                        })}
                                    <td>{scope}</td>
                                    <td>{link.created_by.clone()}</td>
                                    <td>
                                        <span class=format!("state state-{}", link.state.as_str())>
                                            {state_label(i18n, link.state)}
                                        </span>
                                    </td>
                                    <td>{format::date_time(&link.expires_at, locale)}</td>
                                    <td class="num">{opens}</td>
                                    <td>{last}</td>
                                    {has_actions.then(|| view! { <td class="actions">{actions}</td> })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
