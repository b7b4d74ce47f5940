//! Finding customers in FlexPortal, for the staff: by email, name or id.

use flexportal::model::{Customer, CustomerStatus};
use flexportal::Client;

use crate::base::error::AppError;
use crate::base::server::tokens::normalize_email;
use crate::documents::server::{plausible_id, upstream_error};
use crate::staff::model::{CustomerHit, CustomerSearch};

/// The longest lookup text.
const MAX_QUERY: usize = 254;

/// Finds customers by email (as FlexPortal matches it, compared here without regard to case),
/// by order id or by customer id.
pub async fn find_customers(client: &Client, query: &str) -> Result<CustomerSearch, AppError> {
    let query: String = query.trim().chars().take(MAX_QUERY).collect();
    let mut search = CustomerSearch {
        query: query.clone(),
        hits: Vec::new(),
        by_order: false,
    };
    if query.is_empty() {
        return Ok(search);
    }
    if let Some(email) = normalize_email(&query) {
        // FlexPortal matches addresses exactly. Most are stored in lower case, so a miss is
        // tried once more that way; matches are then compared here without regard to case.
        let mut spellings = vec![email.clone()];
        if email.to_lowercase() != email {
            spellings.push(email.to_lowercase());
        }
        for spelling in spellings {
            let found = client
                .customers_by_email(&spelling)
                .await
                .map_err(upstream_error)?;
            search.hits = found
                .value
                .iter()
                .filter(|c| c.email.trim().eq_ignore_ascii_case(&email))
                .filter(|c| ours(client, c))
                .map(hit)
                .collect();
            if !search.hits.is_empty() {
                break;
            }
        }
        return Ok(search);
    }
    if !plausible_id(&query) {
        return Ok(search);
    }
    let (order, customer) = futures::join!(client.order(&query), client.customer(&query));
    match order {
        Ok(order)
            if order
                .value
                .tenant_id
                .as_deref()
                .is_none_or(|t| t == client.tenant_id()) =>
        {
            match customer_hit(client, &order.value.customer.customer_id).await {
                Ok(hit) => {
                    search.by_order = true;
                    search.hits.push(hit);
                }
                // An order whose customer FlexPortal does not know is no match.
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {}
        Err(e) => return Err(upstream_error(e)),
    }
    match customer {
        Ok(customer) if ours(client, &customer.value) => {
            if !search
                .hits
                .iter()
                .any(|h| h.id == customer.value.customer_id)
            {
                search.hits.push(hit(&customer.value));
            }
        }
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {}
        Err(e) => return Err(upstream_error(e)),
    }
    Ok(search)
}

/// One customer, as the staff screens name them; not found unless FlexPortal knows them in
/// our tenant.
pub async fn customer_hit(client: &Client, customer_id: &str) -> Result<CustomerHit, AppError> {
    if !plausible_id(customer_id) {
        return Err(AppError::NotFound);
    }
    match client.customer(customer_id).await {
        Ok(c) if c.value.customer_id == customer_id && ours(client, &c.value) => Ok(hit(&c.value)),
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
            Err(AppError::NotFound)
        }
        Err(e) => Err(upstream_error(e)),
    }
}

fn hit(customer: &Customer) -> CustomerHit {
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    CustomerHit {
        id: customer.customer_id.clone(),
        name: if name.is_empty() {
            customer.email.clone()
        } else {
            name
        },
        email: customer.email.clone(),
        company: customer.company.clone(),
        active: customer.status == CustomerStatus::Active,
    }
}

/// Whether FlexPortal's customer is in our tenant (when it says).
fn ours(client: &Client, customer: &Customer) -> bool {
    customer
        .tenant_id
        .as_deref()
        .is_none_or(|t| t == client.tenant_id())
}
