//! The staff's actions on portal links: create (and mail), revoke, extend.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use leptos_i18n::Locale as _;

use crate::base::server::answers::{busy, not_found};
use crate::base::server::client_ip::ClientIp;
use crate::base::server::clock::iso_time;
use crate::base::server::mail::{Composed, Mail};
use crate::base::server::principal::{Principal, Staff};
use crate::base::server::state::AppState;
use crate::base::server::tokens::{normalize_email, random_token, token_hash};
use crate::base::who::DocType;
use crate::i18n::Locale;
use crate::links::server::store::PortalLink;
use crate::links::server::{audit, plausible_token, urlencoding};

/// A link's life when its creator does not choose one.
pub const DEFAULT_DAYS: u32 = 7;

/// The longest life a link may have, at creation and after extending.
pub const MAX_DAYS: u32 = 90;

/// The highest limit on opens a link may carry.
pub const MAX_OPENS_LIMIT: i64 = 1000;

/// The longest label.
pub const MAX_LABEL: usize = 100;

/// The cookie that carries a new link's token to its page, once.
const CREATED_COOKIE: &str = "folio_new_link";

const DAY: i64 = 86_400;

/// The "new portal link" form as sent. Every field is text, read leniently, so that a bad
/// value is reported next to the form with everything else kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkForm {
    /// `all` for the whole portal, `order` for the chosen order.
    pub scope: String,
    pub order: Option<String>,
    pub types: Vec<String>,
    pub days: String,
    pub max_opens: String,
    pub label: String,
    pub recipient: String,
    pub locale: String,
}

impl LinkForm {
    /// Reads a form body; repeated `types` fields make the list.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = LinkForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "scope" => form.scope = value,
                "order" => form.order = Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
                "types" => form.types.push(value),
                "days" => form.days = value,
                "max_opens" => form.max_opens = value,
                "label" => form.label = value,
                "recipient" => form.recipient = value,
                "locale" => form.locale = value,
                _ => {}
            }
        }
        form
    }

    /// The form's values as a query string, to send the form back filled in.
    fn to_query(&self, error: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("error", error);
        if !self.scope.is_empty() {
            query.append_pair("scope", &self.scope);
        }
        if let Some(order) = &self.order {
            query.append_pair("order", order);
        }
        for t in &self.types {
            query.append_pair("types", t);
        }
        for (key, value) in [
            ("days", &self.days),
            ("max_opens", &self.max_opens),
            ("label", &self.label),
            ("recipient", &self.recipient),
            ("locale", &self.locale),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }
}

/// A form that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidLink {
    pub order: Option<String>,
    pub types: Option<Vec<DocType>>,
    pub days: u32,
    pub max_opens: Option<i64>,
    pub label: Option<String>,
    pub recipient: Option<String>,
    pub locale: Locale,
}

/// Checks a form's values; the error is a short code the form page explains.
pub fn validate(form: &LinkForm) -> Result<ValidLink, &'static str> {
    let days = match form.days.trim() {
        "" => DEFAULT_DAYS,
        text => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d))
            .ok_or("days")?,
    };
    let max_opens = match form.max_opens.trim() {
        "" => None,
        text => Some(
            text.parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_OPENS_LIMIT).contains(n))
                .ok_or("max_opens")?,
        ),
    };
    let mut types = Vec::new();
    for t in &form.types {
        let t = DocType::parse(t).ok_or("types")?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types.sort();
    // Every type ticked is the same as none: the whole portal.
    let types = (!types.is_empty() && types.len() < DocType::ALL.len()).then_some(types);
    let label = form.label.trim();
    if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
        return Err("label");
    }
    let recipient = match form.recipient.trim() {
        "" => None,
        text => Some(normalize_email(text).ok_or("recipient")?),
    };
    let locale = match form.locale.trim() {
        "" => Locale::default(),
        text => text.parse::<Locale>().map_err(|_| "locale")?,
    };
    // The order select always sends a value; only the scope chosen says whether it counts.
    let order = match form.scope.as_str() {
        "all" => None,
        _ => form.order.clone(),
    };
    if form.scope == "order" && order.is_none() {
        return Err("order");
    }
    if order.as_ref().is_some_and(|o| o.len() > 200) {
        return Err("order");
    }
    Ok(ValidLink {
        order,
        types,
        days,
        max_opens,
        label: (!label.is_empty()).then(|| label.to_owned()),
        recipient,
        locale,
    })
}

/// `POST /manage/customers/{id}/share`: creates a link for one of the customer's orders or for
/// their whole portal, after checking with FlexPortal that the customer exists and owns the
/// order.
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ClientIp(ip): ClientIp,
    Path(customer_id): Path<String>,
    body: Bytes,
) -> Response {
    let form = LinkForm::parse(&body);
    let back = |error: &str| {
        Redirect::to(&format!(
            "/manage/customers/{}/share?{}",
            urlencoding(&customer_id),
            form.to_query(error)
        ))
        .into_response()
    };
    let valid = match validate(&form) {
        Ok(valid) => valid,
        Err(error) => return back(error),
    };
    let client = &state.upstream.client;
    let customer = match super::customers::customer_hit(client, &customer_id).await {
        Ok(customer) => customer,
        Err(crate::base::error::AppError::NotFound) => return not_found(),
        Err(_) => return back("unavailable"),
    };
    if let Some(order_id) = &valid.order {
        let scope = crate::base::server::principal::Scope::customer(customer.id.clone());
        match crate::documents::server::owned_orders(client, &scope).await {
            Ok(owned) if owned.contains(order_id) => {}
            Ok(_) => return back("order"),
            Err(_) => return back("unavailable"),
        }
    }

    let now = state.clock.now();
    let token = random_token(32);
    let label = valid.label.clone().unwrap_or_else(|| match &valid.order {
        Some(order) => format!("{} · {order}", customer.name),
        None => customer.name.clone(),
    });
    let link = PortalLink {
        id: random_token(12),
        customer_id: customer.id.clone(),
        customer_name: customer.name.clone(),
        order_id: valid.order.clone(),
        doc_types: valid
            .types
            .as_ref()
            .map(|t| t.iter().map(|t| t.as_str().to_owned()).collect()),
        label,
        recipient: valid.recipient.clone(),
        locale: valid.locale.as_str().to_owned(),
        created_by: staff.email.clone(),
        created_by_name: staff.name.clone(),
        created_at: now,
        expires_at: now + i64::from(valid.days) * DAY,
        max_opens: valid.max_opens,
        opens: 0,
        last_opened_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    if let Err(e) = state.store.link_insert(&link, &token_hash(&token)).await {
        tracing::error!(error = %e, "cannot store a link");
        return back("busy");
    }
    let url = format!("{}/s/{token}", state.config.public_url.origin);
    let actor = staff_principal(&staff, now);
    audit(&state, "link_created", &actor, &link, None, &ip).await;
    if let Some(recipient) = &link.recipient {
        state
            .mailer
            .send(link_mail(&state.config.brand, &link, recipient, &url))
            .await;
        audit(
            &state,
            "link_sent",
            &actor,
            &link,
            Some(recipient.clone()),
            &ip,
        )
        .await;
    }
    // The token goes to its creator's browser alone, in a cookie that only the link's page
    // receives, for a few minutes; that page shows it once and clears it. Folio itself keeps
    // nothing but the hash.
    let page = format!("/manage/links/{}", link.id);
    let mut response = Redirect::to(&page).into_response();
    let cookie = format!(
        "{CREATED_COOKIE}={token}; Path={page}; Max-Age=600; HttpOnly; SameSite=Strict{}",
        if state.config.public_url.https {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The new link's address, on the first view of its page by its creator: read from the
/// cookie [`create`] set, which the page's answer clears, so that it is shown once.
pub fn take_created_url(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    link_id: &str,
) -> Option<(String, HeaderValue)> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CREATED_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|token| plausible_token(token))?;
    let clear = HeaderValue::from_str(&format!(
        "{CREATED_COOKIE}=; Path=/manage/links/{link_id}; Max-Age=0; HttpOnly; SameSite=Strict"
    ))
    .ok()?;
    Some((
        format!("{}/s/{token}", state.config.public_url.origin),
        clear,
    ))
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    back: String,
}

impl ActionForm {
    /// Where to go afterwards: a staff page the form names, else the link's own page. Only
    /// paths under `/manage/` are followed, so the field cannot send anyone elsewhere.
    fn back(&self, link_id: &str, notice: &str) -> Response {
        let target = if self.back.starts_with("/manage/") && !self.back.contains("//") {
            self.back.clone()
        } else {
            format!("/manage/links/{link_id}")
        };
        let sep = if target.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{target}{sep}notice={notice}")).into_response()
    }
}

/// `POST /manage/links/{id}/revoke`: final; the link's sessions end at their next request.
pub async fn revoke(
    State(state): State<AppState>,
    staff: Staff,
    ClientIp(ip): ClientIp,
    Path(link_id): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let now = state.clock.now();
    let Ok(Some(link)) = state.store.link_by_id(&link_id).await else {
        return not_found();
    };
    match state.store.link_revoke(&link.id, &staff.email, now).await {
        Ok(true) => {
            let actor = staff_principal(&staff, now);
            audit(&state, "link_revoked", &actor, &link, None, &ip).await;
            form.back(&link.id, "revoked")
        }
        Ok(false) => form.back(&link.id, "already_revoked"),
        Err(e) => {
            tracing::error!(error = %e, "cannot revoke a link");
            busy()
        }
    }
}

/// `POST /manage/links/{id}/extend`: the link runs `days` more days from its current expiry
/// (or from now, if it has expired), never past [`MAX_DAYS`] from now. A revoked link stays
/// revoked.
pub async fn extend(
    State(state): State<AppState>,
    staff: Staff,
    ClientIp(ip): ClientIp,
    Path(link_id): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> Response {
    let now = state.clock.now();
    let Ok(Some(link)) = state.store.link_by_id(&link_id).await else {
        return not_found();
    };
    let Some(days) = form
        .days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=i64::from(MAX_DAYS)).contains(d))
    else {
        return form.back(&link.id, "bad_days");
    };
    if link.revoked_at.is_some() {
        return form.back(&link.id, "already_revoked");
    }
    let expires_at = (link.expires_at.max(now) + days * DAY).min(now + i64::from(MAX_DAYS) * DAY);
    match state.store.link_set_expiry(&link.id, expires_at).await {
        Ok(true) => {
            let actor = staff_principal(&staff, now);
            audit(
                &state,
                "link_extended",
                &actor,
                &link,
                Some(iso_time(expires_at)),
                &ip,
            )
            .await;
            form.back(&link.id, "extended")
        }
        Ok(false) => form.back(&link.id, "already_revoked"),
        Err(e) => {
            tracing::error!(error = %e, "cannot extend a link");
            busy()
        }
    }
}

fn staff_principal(staff: &Staff, now: i64) -> Principal {
    Principal::staff(&staff.email, &staff.name, now)
}

/// The mail that carries a new link to its recipient, in the language chosen for them, with
/// the tenant's brand.
pub fn link_mail(
    brand: &crate::base::server::config::Brand,
    link: &PortalLink,
    to: &str,
    url: &str,
) -> Mail {
    use leptos_i18n::td_string;
    let locale: Locale = link.locale.parse().unwrap_or_default();
    let expires = crate::ui::format::date_time(&iso_time(link.expires_at), locale);
    let fill = |text: &str| {
        text.replace("%brand%", &brand.name)
            .replace("%sender%", &link.created_by_name)
            .replace("%label%", &link.label)
            .replace("%date%", &expires)
    };
    Composed {
        brand,
        lang: locale.as_str(),
        to,
        subject: fill(td_string!(locale, link_mail_subject)),
        before: vec![fill(td_string!(locale, link_mail_intro))],
        link: url,
        button: td_string!(locale, link_mail_button).to_string(),
        after: vec![fill(td_string!(locale, link_mail_expiry))],
    }
    .into_mail()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_leniently_and_checked_strictly() {
        let form = LinkForm::parse(
            b"scope=order&order=ord_1&types=invoice&types=contract&types=invoice&days=14&max_opens=3&label=Q3&recipient=a%40b.example&locale=de",
        );
        let valid = validate(&form).unwrap();
        assert_eq!(valid.order.as_deref(), Some("ord_1"));
        assert_eq!(
            valid.types,
            Some(vec![DocType::Contract, DocType::Invoice]),
            "deduplicated and sorted"
        );
        assert_eq!((valid.days, valid.max_opens), (14, Some(3)));
        assert_eq!(valid.locale, Locale::de);

        let whole = LinkForm::parse(b"scope=all&order=ord_1");
        assert_eq!(
            validate(&whole).unwrap().order,
            None,
            "the whole portal ignores the order select"
        );
        let defaults = validate(&LinkForm::parse(b"")).unwrap();
        assert_eq!((defaults.days, defaults.max_opens), (DEFAULT_DAYS, None));
        assert_eq!(defaults.types, None);

        let every_type = LinkForm::parse(
            b"types=contract&types=invoice&types=document&types=attachment&types=other",
        );
        assert_eq!(validate(&every_type).unwrap().types, None);

        for (body, error) in [
            (&b"days=0"[..], "days"),
            (b"days=91", "days"),
            (b"days=seven", "days"),
            (b"max_opens=0", "max_opens"),
            (b"max_opens=1001", "max_opens"),
            (b"types=receipt", "types"),
            (b"recipient=not-an-address", "recipient"),
            (b"locale=fr", "locale"),
            (b"scope=order&order=", "order"),
        ] {
            assert_eq!(
                validate(&LinkForm::parse(body)),
                Err(error),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let long_label = format!("label={}", "x".repeat(MAX_LABEL + 1));
        assert_eq!(
            validate(&LinkForm::parse(long_label.as_bytes())),
            Err("label")
        );
    }

    #[test]
    fn a_refused_form_comes_back_whole() {
        let form = LinkForm::parse(b"order=ord_1&types=invoice&days=120&label=Tax+2025");
        let query = form.to_query("days");
        assert!(query.starts_with("error=days&"));
        for part in ["order=ord_1", "types=invoice", "days=120", "label=Tax+2025"] {
            assert!(query.contains(part), "{query}");
        }
    }

    #[test]
    fn tokens_are_checked_for_shape_before_any_lookup() {
        assert!(plausible_token(&random_token(32)));
        assert!(!plausible_token("short"));
        assert!(!plausible_token(&"a".repeat(44)));
        assert!(!plausible_token(&format!("{}/", "a".repeat(42))));
    }
}
