//! Document visibility and views against the stand-in FlexPortal over a real port, and against
//! a deliberately hostile upstream that returns other customers' data.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use flexportal::{Client, ClientConfig};
use flexportal_sim::{RunningSim, Sim, Tenant};
use folio::base::error::AppError;
use folio::base::server::principal::Scope;
use folio::base::server::rate_limit::FileLookups;
use folio::base::who::DocType;
use folio::documents::model::{DocumentQuery, DocumentRow, QueryNotice, Sort};
use folio::documents::server::files::{authorize_file, Asker};
use folio::documents::server::{
    documents, invoice_year, invoices, order_detail, orders, overview, owned_orders,
};
use secrecy::SecretString;

/// A caller of the file routes with limits of its own.
fn asker() -> Asker<'static> {
    static LOOKUPS: std::sync::LazyLock<FileLookups> =
        std::sync::LazyLock::new(FileLookups::default);
    Asker {
        who: "customer:test",
        lookups: &LOOKUPS,
        now: 0,
    }
}

const ANNA: &str = "cust_0001";
const BEN: &str = "cust_0002";
const CLARA: &str = "cust_0003";
const DANA: &str = "cust_0004";

async fn sim() -> RunningSim {
    Sim::demo().spawn("127.0.0.1:0").await.expect("sim starts")
}

fn config(sim: &RunningSim) -> ClientConfig {
    let mut config = ClientConfig::new(
        sim.base_url.clone(),
        sim.tenant_id.clone(),
        SecretString::from(sim.api_key.clone()),
    );
    config.allowance = flexportal::Allowance::per_minute(10_000);
    config.request_timeout = Duration::from_secs(10);
    config
}

fn client(sim: &RunningSim) -> Client {
    Client::new(config(sim)).expect("client builds")
}

/// A client that gives up quickly, for the fault tests.
fn impatient_client(sim: &RunningSim) -> Client {
    let mut config = config(sim);
    config.request_timeout = Duration::from_millis(300);
    config.connect_timeout = Duration::from_millis(300);
    config.max_wait = Duration::from_millis(500);
    config.max_retries = 1;
    Client::new(config).expect("client builds")
}

fn whole(customer: &str) -> Scope {
    Scope::customer(customer)
}

fn query(pairs: &[(&str, &str)]) -> DocumentQuery {
    DocumentQuery::from_query_pairs(pairs.iter().copied()).0
}

/// The demo data itself: which file ids each customer owns, through their orders.
struct Oracle {
    tenant: Tenant,
}

impl Oracle {
    fn new() -> Self {
        Self {
            tenant: Tenant::demo(),
        }
    }

    fn owner_of_order(&self, order_id: &str) -> Option<&str> {
        self.tenant
            .orders
            .iter()
            .find(|o| o.order_id == order_id)
            .map(|o| o.customer.customer_id.as_str())
    }

    fn files_of(&self, customer: &str) -> BTreeSet<String> {
        self.tenant
            .files
            .iter()
            .filter(|f| {
                !f.order_id.is_empty() && self.owner_of_order(&f.order_id) == Some(customer)
            })
            .map(|f| f.file_id.clone())
            .collect()
    }

    fn files_of_order(&self, order_id: &str) -> BTreeSet<String> {
        self.tenant
            .files
            .iter()
            .filter(|f| f.order_id == order_id)
            .map(|f| f.file_id.clone())
            .collect()
    }

    fn file_of_type_in_order(&self, order_id: &str, file_type: &str) -> String {
        self.tenant
            .files
            .iter()
            .find(|f| f.order_id == order_id && f.file_type == file_type)
            .map(|f| f.file_id.clone())
            .unwrap_or_else(|| panic!("no {file_type} in {order_id}"))
    }

    fn tenant_level_files(&self) -> Vec<String> {
        self.tenant
            .files
            .iter()
            .filter(|f| f.order_id.is_empty())
            .map(|f| f.file_id.clone())
            .collect()
    }

    fn orders_of(&self, customer: &str) -> Vec<String> {
        self.tenant
            .orders
            .iter()
            .filter(|o| o.customer.customer_id == customer)
            .map(|o| o.order_id.clone())
            .collect()
    }
}

/// Every document a scope can see, across all pages.
async fn all_ids(client: &Client, scope: &Scope) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut page = 1;
    loop {
        let list = documents(client, scope, query(&[]).with_page(page))
            .await
            .expect("documents");
        ids.extend(list.rows.iter().map(|r| r.id.clone()));
        if page >= list.page_count {
            assert_eq!(ids.len(), list.total, "pages cover the total exactly once");
            return ids;
        }
        page += 1;
    }
}

#[tokio::test]
async fn a_customer_without_orders_sees_nothing() {
    let sim = sim().await;
    let client = client(&sim);
    let view = overview(&client, &whole(ANNA)).await.unwrap();
    assert!(view.orders.is_empty());
    assert!(view.latest.is_empty());
    assert!(view.type_counts.is_empty());
    assert_eq!(view.total_documents, 0);

    let list = documents(&client, &whole(ANNA), query(&[])).await.unwrap();
    assert_eq!((list.total, list.page, list.page_count), (0, 1, 1));
    assert!(list.rows.is_empty() && list.facets.years.is_empty());

    let history = invoice_year(&client, &whole(ANNA), None).await.unwrap();
    assert_eq!(history.year, None);
    assert!(history.years.is_empty() && history.invoices.is_empty() && history.payments.is_empty());
}

#[tokio::test]
async fn a_customer_with_one_order_sees_exactly_its_documents() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let view = overview(&client, &whole(BEN)).await.unwrap();
    assert_eq!(view.orders.len(), 1);
    let order = &view.orders[0];
    assert_eq!(order.id, "ord_10001");
    assert_eq!(order.status, "fulfilled");
    assert_eq!(order.total.currency, "EUR");
    assert!(order.total.amount.contains('.'), "{}", order.total.amount);
    assert_eq!(order.item_count, 1);
    assert!(order.created.as_deref().unwrap().starts_with("2025-04-10T"));
    assert_eq!(view.total_documents, oracle.files_of(BEN).len());
    assert!(view.latest.len() <= 5 && !view.latest.is_empty());
    assert!(view.latest.windows(2).all(|w| w[0].created >= w[1].created));
    let counted: usize = view.type_counts.iter().map(|c| c.count).sum();
    assert_eq!(counted, view.total_documents);

    assert_eq!(all_ids(&client, &whole(BEN)).await, oracle.files_of(BEN));
}

#[tokio::test]
async fn the_documentation_prose_field_names_give_the_same_documents() {
    let sim = sim().await;
    sim.faults.set_prose_mode(true);
    let client = client(&sim);
    let oracle = Oracle::new();
    assert_eq!(
        all_ids(&client, &whole(CLARA)).await,
        oracle.files_of(CLARA)
    );
    let list = documents(&client, &whole(CLARA), query(&[])).await.unwrap();
    assert!(list
        .rows
        .iter()
        .all(|r| r.size.is_some() && r.created.is_some() && !r.name.is_empty()));
}

#[tokio::test]
async fn a_customer_with_several_orders_over_three_years() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let view = overview(&client, &whole(CLARA)).await.unwrap();
    let ids: Vec<&str> = view.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[0], "ord_10006", "newest order first");
    assert_eq!(
        ids.iter().copied().collect::<BTreeSet<_>>(),
        oracle.orders_of(CLARA).iter().map(String::as_str).collect()
    );
    let list = documents(&client, &whole(CLARA), query(&[])).await.unwrap();
    assert_eq!(list.facets.years, vec![2026, 2025, 2024]);
    assert!(list.facets.orders.iter().all(|o| ids.contains(&o.as_str())));
    assert_eq!(
        all_ids(&client, &whole(CLARA)).await,
        oracle.files_of(CLARA)
    );
}

#[tokio::test]
async fn the_business_sees_all_its_836_files_and_nobody_else_sees_any() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    assert!(
        !sim.faults.settings().honour_files_customer_id,
        "the sim ignores the customerId filter on files"
    );

    let dana = all_ids(&client, &whole(DANA)).await;
    assert_eq!(dana.len(), 836);
    assert_eq!(dana, oracle.files_of(DANA));
    let detail = order_detail(&client, &whole(DANA), "ord_10019")
        .await
        .unwrap();
    let in_order: usize = detail.documents.iter().map(|g| g.documents.len()).sum();
    assert_eq!(in_order, 149);

    let tenant_level = oracle.tenant_level_files();
    assert_eq!(tenant_level.len(), 2);
    for account in &sim.accounts {
        let customer = account.customer_id.as_str();
        let seen = if customer == DANA {
            dana.clone()
        } else {
            all_ids(&client, &whole(customer)).await
        };
        assert_eq!(seen, oracle.files_of(customer), "{customer}");
        if customer != DANA {
            assert!(
                seen.is_disjoint(&dana),
                "{customer} sees the business's files"
            );
        }
        for id in &tenant_level {
            assert!(!seen.contains(id), "{customer} sees tenant-level file {id}");
            assert_eq!(
                authorize_file(&client, &whole(customer), id, &asker()).await,
                Err(AppError::NotFound)
            );
        }
        let names = documents(
            &client,
            &whole(customer),
            query(&[("q", "internal-margin")]),
        )
        .await
        .unwrap();
        assert_eq!(names.total, 0);
    }
}

#[tokio::test]
async fn a_link_for_one_order_cannot_see_another() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let scope = Scope {
        customer_id: CLARA.into(),
        order_id: Some("ord_10002".into()),
        types: None,
    };
    let owned = owned_orders(&client, &scope).await.unwrap();
    assert_eq!(owned.orders.len(), 1);
    assert_eq!(
        all_ids(&client, &scope).await,
        oracle.files_of_order("ord_10002")
    );
    let view = overview(&client, &scope).await.unwrap();
    assert_eq!(view.orders.len(), 1);

    assert_eq!(
        order_detail(&client, &scope, "ord_10004").await,
        Err(AppError::NotFound)
    );
    let other = oracle.file_of_type_in_order("ord_10004", "contract");
    assert_eq!(
        authorize_file(&client, &scope, &other, &asker()).await,
        Err(AppError::NotFound)
    );
    let own = oracle.file_of_type_in_order("ord_10002", "contract");
    assert_eq!(
        authorize_file(&client, &scope, &own, &asker())
            .await
            .unwrap()
            .order_id,
        "ord_10002"
    );
    // The query's order filter narrows; it cannot widen the scope.
    let widened = documents(&client, &scope, query(&[("order", "ord_10004")]))
        .await
        .unwrap();
    assert_eq!(widened.total, 0);

    // A link naming another customer's order grants nothing.
    let forged = Scope {
        customer_id: CLARA.into(),
        order_id: Some("ord_10001".into()),
        types: None,
    };
    assert!(owned_orders(&client, &forged)
        .await
        .unwrap()
        .orders
        .is_empty());
    assert!(all_ids(&client, &forged).await.is_empty());
    assert_eq!(
        order_detail(&client, &forged, "ord_10001").await,
        Err(AppError::NotFound)
    );
    let bens = oracle.file_of_type_in_order("ord_10001", "contract");
    assert_eq!(
        authorize_file(&client, &forged, &bens, &asker()).await,
        Err(AppError::NotFound)
    );
}

#[tokio::test]
async fn a_link_for_invoices_cannot_see_a_contract() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let scope = Scope {
        customer_id: CLARA.into(),
        order_id: None,
        types: Some([DocType::Invoice].into()),
    };
    let list = documents(&client, &scope, query(&[])).await.unwrap();
    assert!(list.total > 0);
    assert!(list.rows.iter().all(|r| r.doc_type == DocType::Invoice));
    assert_eq!(
        list.facets
            .types
            .iter()
            .map(|t| t.doc_type)
            .collect::<Vec<_>>(),
        vec![DocType::Invoice]
    );
    let contracts = documents(&client, &scope, query(&[("type", "contract")]))
        .await
        .unwrap();
    assert_eq!(contracts.total, 0);

    let contract = oracle.file_of_type_in_order("ord_10002", "contract");
    assert_eq!(
        authorize_file(&client, &scope, &contract, &asker()).await,
        Err(AppError::NotFound)
    );
    let invoice = oracle.file_of_type_in_order("ord_10002", "invoice");
    let visible = authorize_file(&client, &scope, &invoice, &asker())
        .await
        .unwrap();
    assert_eq!(visible.doc_type, DocType::Invoice);
    assert_eq!(visible.content_type, "application/pdf");
    assert!(visible.name.ends_with(".pdf"));

    let detail = order_detail(&client, &scope, "ord_10002").await.unwrap();
    assert!(detail
        .documents
        .iter()
        .all(|g| g.doc_type == DocType::Invoice));

    // Billing data belongs with invoices: a contracts-only link sees none.
    let contracts_only = Scope {
        types: Some([DocType::Contract].into()),
        ..scope.clone()
    };
    let history = invoice_year(&client, &contracts_only, None).await.unwrap();
    assert!(history.invoices.is_empty() && history.payments.is_empty());
}

#[tokio::test]
async fn filters_narrow_by_type_order_year_and_name() {
    let sim = sim().await;
    let client = client(&sim);
    let scope = whole(DANA);
    let all = documents(&client, &scope, query(&[])).await.unwrap();
    assert_eq!(all.total, 836);
    let counts: HashMap<DocType, usize> = all
        .facets
        .types
        .iter()
        .map(|t| (t.doc_type, t.count))
        .collect();
    assert_eq!(counts.values().sum::<usize>(), 836);
    assert!(counts[&DocType::Other] > 0, "delivery notes count as other");

    let invoices_only = documents(&client, &scope, query(&[("type", "invoice")]))
        .await
        .unwrap();
    assert_eq!(invoices_only.total, counts[&DocType::Invoice]);

    let one_order = documents(&client, &scope, query(&[("order", "ord_10019")]))
        .await
        .unwrap();
    assert_eq!(one_order.total, 149);

    let year = documents(&client, &scope, query(&[("year", "2025")]))
        .await
        .unwrap();
    assert!(year.total > 0 && year.total < 836);
    assert!(year.rows.iter().all(|r| r.year == Some(2025)));

    let named = documents(&client, &scope, query(&[("q", "SITE-PHOTO")]))
        .await
        .unwrap();
    assert_eq!(named.total, 120, "case-insensitive name search");

    let combined = documents(
        &client,
        &scope,
        query(&[
            ("type", "attachment"),
            ("order", "ord_10019"),
            ("q", ".png"),
        ]),
    )
    .await
    .unwrap();
    assert!(combined
        .rows
        .iter()
        .all(|r| r.doc_type == DocType::Attachment
            && r.order_id == "ord_10019"
            && r.name.ends_with(".png")));
    assert_eq!(combined.total, 61, "60 site photos and one device photo");
}

fn sorted_by<K: Ord>(rows: &[DocumentRow], key: impl Fn(&DocumentRow) -> K, desc: bool) -> bool {
    rows.windows(2).all(|w| {
        let (a, b) = (key(&w[0]), key(&w[1]));
        let order = if desc { b.cmp(&a) } else { a.cmp(&b) };
        order.is_lt() || (order.is_eq() && w[0].id < w[1].id)
    })
}

#[tokio::test]
async fn every_sort_in_both_directions_with_a_stable_tie_break() {
    let sim = sim().await;
    let client = client(&sim);
    let scope = whole(DANA);
    let everything = |sort: Sort| {
        let client = client.clone();
        let scope = scope.clone();
        async move {
            let mut rows = Vec::new();
            for page in 1..=34 {
                let q = DocumentQuery {
                    sort,
                    page,
                    ..query(&[])
                };
                rows.extend(documents(&client, &scope, q).await.unwrap().rows);
            }
            rows
        }
    };
    let cases: [(Sort, bool); 6] = [
        (Sort::DateDesc, true),
        (Sort::DateAsc, false),
        (Sort::NameAsc, false),
        (Sort::NameDesc, true),
        (Sort::SizeAsc, false),
        (Sort::SizeDesc, true),
    ];
    for (sort, desc) in cases {
        let rows = everything(sort).await;
        assert_eq!(rows.len(), 836, "{sort:?}");
        let ok = match sort {
            Sort::DateDesc | Sort::DateAsc => sorted_by(&rows, |r| r.created.clone(), desc),
            Sort::NameAsc | Sort::NameDesc => sorted_by(&rows, |r| r.name.to_lowercase(), desc),
            Sort::SizeAsc | Sort::SizeDesc => sorted_by(&rows, |r| r.size, desc),
        };
        assert!(ok, "{sort:?} is not sorted with ties broken by id");
    }
    // The default is newest first.
    let default = documents(&client, &scope, query(&[])).await.unwrap();
    assert_eq!(default.query.sort, Sort::DateDesc);
    assert!(sorted_by(&default.rows, |r| r.created.clone(), true));
}

#[tokio::test]
async fn pagination_first_middle_last_and_past_the_end() {
    let sim = sim().await;
    let client = client(&sim);
    let scope = whole(DANA);
    let first = documents(&client, &scope, query(&[])).await.unwrap();
    assert_eq!((first.page, first.page_count, first.per_page), (1, 34, 25));
    assert_eq!(first.rows.len(), 25);
    assert!(first.notices.is_empty());

    let middle = documents(&client, &scope, query(&[("page", "17")]))
        .await
        .unwrap();
    assert_eq!(middle.page, 17);
    assert_eq!(middle.rows.len(), 25);
    assert!(middle.rows.iter().all(|r| !first.rows.contains(r)));

    let last = documents(&client, &scope, query(&[("page", "34")]))
        .await
        .unwrap();
    assert_eq!(last.rows.len(), 836 - 33 * 25);

    let (past, notices) = DocumentQuery::from_query_pairs([("page", "9999")]);
    assert!(
        notices.is_empty(),
        "a well-formed page number is not malformed"
    );
    let past = documents(&client, &scope, past).await.unwrap();
    assert_eq!(past.page, 34);
    assert_eq!(past.query.page, 34);
    assert_eq!(past.rows, last.rows);
    assert_eq!(
        past.notices,
        vec![QueryNotice {
            param: "page".into(),
            value: "9999".into()
        }]
    );

    // Filters that match nothing still give one (empty) page.
    let none = documents(
        &client,
        &scope,
        query(&[("q", "no such name"), ("page", "3")]),
    )
    .await
    .unwrap();
    assert_eq!((none.total, none.page, none.page_count), (0, 1, 1));
}

#[tokio::test]
async fn malformed_query_values_fall_back_to_defaults() {
    let (q, notices) = DocumentQuery::from_query_pairs([
        ("page", "abc"),
        ("year", "20x5"),
        ("type", "spreadsheet"),
        ("sort", "by_colour"),
        ("order", ""),
        ("q", "   "),
        ("unknown", "x"),
    ]);
    assert_eq!(q, query(&[]));
    assert_eq!(q.page, 1);
    let params: Vec<&str> = notices.iter().map(|n| n.param.as_str()).collect();
    assert_eq!(params, vec!["page", "year", "type", "sort"]);

    let (q, notices) = DocumentQuery::from_query_pairs([
        ("type", " Invoice "),
        ("year", "2025"),
        ("sort", "size_desc"),
        ("page", "0"),
        ("q", "Contract"),
        ("order", "ord_10019"),
    ]);
    assert_eq!(q.doc_type, Some(DocType::Invoice));
    assert_eq!(q.year, Some(2025));
    assert_eq!(q.sort, Sort::SizeDesc);
    assert_eq!(q.page, 1);
    assert_eq!(q.q.as_deref(), Some("Contract"));
    assert_eq!(q.order.as_deref(), Some("ord_10019"));
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].param, "page");

    // What a page builds its links from reads back the same.
    let (round, notices) = DocumentQuery::from_query_pairs(q.to_query_pairs());
    assert!(notices.is_empty());
    assert_eq!(round, q);

    let huge = "x".repeat(500);
    let (q, notices) = DocumentQuery::from_query_pairs([("q", huge.as_str()), ("year", "-1")]);
    assert_eq!(q.q.as_ref().map(|s| s.len()), Some(100));
    assert_eq!(q.year, None);
    assert_eq!(notices.len(), 2);
    assert!(notices.iter().all(|n| n.value.len() <= 40));

    let sim = sim().await;
    let client = client(&sim);
    let (q, _) = DocumentQuery::from_query_pairs([("page", "abc"), ("year", "20x5")]);
    let list = documents(&client, &whole(CLARA), q).await.unwrap();
    assert_eq!(list.page, 1);
    assert!(list.total > 0);
}

#[tokio::test]
async fn foreign_missing_and_forged_ids_answer_the_same_not_found() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let ben = whole(BEN);
    let danas_file = oracle.file_of_type_in_order("ord_10019", "contract");

    for order in [
        "ord_10019",
        "ord_99999",
        "../customers/cust_0004",
        "..",
        "",
        "ord_10001/../ord_10019",
        "ord_10019?x=1",
    ] {
        assert_eq!(
            order_detail(&client, &ben, order).await,
            Err(AppError::NotFound),
            "order {order:?}"
        );
    }
    for file in [
        danas_file.as_str(),
        "file_999999",
        "../customers/cust_0004",
        "../orders/ord_10001",
        ".",
        "",
        "file_200001%2F..",
    ] {
        assert_eq!(
            authorize_file(&client, &ben, file, &asker()).await,
            Err(AppError::NotFound),
            "file {file:?}"
        );
    }
    // The owner gets through, so the refusals above are about ownership.
    let detail = order_detail(&client, &ben, "ord_10001").await.unwrap();
    assert_eq!(detail.id, "ord_10001");
    assert_eq!(
        authorize_file(&client, &whole(DANA), &danas_file, &asker())
            .await
            .unwrap()
            .id,
        danas_file
    );
}

#[tokio::test]
async fn order_detail_shows_items_totals_dates_and_grouped_documents() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let detail = order_detail(&client, &whole(CLARA), "ord_10002")
        .await
        .unwrap();
    assert_eq!(detail.status, "fulfilled");
    assert_eq!(detail.items.len(), 2);
    for line in &detail.items {
        assert_eq!(line.quantity, 1);
        assert_eq!(line.contract_months, Some(24));
        assert_eq!(line.monthly_unit_price.currency, "EUR");
        assert!(!line.product.is_empty());
    }
    assert_eq!(detail.total.currency, "EUR");
    assert!(detail.created.as_deref().unwrap().starts_with("2024-03-05"));
    assert!(detail.shipped.is_some());
    assert!(detail.tracking_number.is_some());
    let sub: f64 = detail.subtotal.amount.parse().unwrap();
    let tax: f64 = detail.tax.amount.parse().unwrap();
    let total: f64 = detail.total.amount.parse().unwrap();
    assert!((sub + tax - total).abs() < 0.011);
    let kinds: Vec<DocType> = detail.documents.iter().map(|g| g.doc_type).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted, "groups in the fixed type order");
    assert!(kinds.contains(&DocType::Contract) && kinds.contains(&DocType::Invoice));
    let ids: BTreeSet<String> = detail
        .documents
        .iter()
        .flat_map(|g| g.documents.iter().map(|d| d.id.clone()))
        .collect();
    assert_eq!(ids, oracle.files_of_order("ord_10002"));
}

#[tokio::test]
async fn invoices_by_year_with_the_customers_own_payments() {
    let sim = sim().await;
    let client = client(&sim);
    let oracle = Oracle::new();
    let history = invoice_year(&client, &whole(CLARA), None).await.unwrap();
    assert_eq!(history.years, vec![2026, 2025, 2024]);
    assert_eq!(history.year, Some(2026), "the newest year by default");
    assert!(!history.invoices.is_empty());
    assert!(history
        .invoices
        .iter()
        .all(|r| r.doc_type == DocType::Invoice && r.year == Some(2026)));
    assert!(history
        .invoices
        .windows(2)
        .all(|w| w[0].created >= w[1].created));
    let expected_payments = oracle
        .tenant
        .payments
        .iter()
        .filter(|p| p.customer_id == CLARA && p.billing_period.starts_with("2026"))
        .count();
    assert_eq!(history.payments.len(), expected_payments);
    assert!(history.payments.iter().all(|p| p
        .billing_period
        .as_deref()
        .is_some_and(|b| b.starts_with("2026-"))
        && p.amount.as_ref().is_some_and(|m| m.currency == "EUR")));
    assert!(history
        .payments
        .windows(2)
        .all(|w| w[0].billing_period >= w[1].billing_period));

    let earlier = invoice_year(&client, &whole(CLARA), Some(2024))
        .await
        .unwrap();
    assert_eq!(earlier.year, Some(2024));
    assert!(earlier.invoices.iter().all(|r| r.year == Some(2024)));
    let empty = invoice_year(&client, &whole(CLARA), Some(2019))
        .await
        .unwrap();
    assert!(empty.invoices.is_empty() && empty.payments.is_empty());

    // One order: only the payments of that order's rentals.
    let scope = Scope {
        customer_id: CLARA.into(),
        order_id: Some("ord_10002".into()),
        types: None,
    };
    let rentals: BTreeSet<&str> = oracle
        .tenant
        .rentals
        .iter()
        .filter(|r| r.order_id == "ord_10002")
        .map(|r| r.rental_id.as_str())
        .collect();
    let one = invoice_year(&client, &scope, Some(2025)).await.unwrap();
    let expected = oracle
        .tenant
        .payments
        .iter()
        .filter(|p| {
            p.rental_id.as_deref().is_some_and(|r| rentals.contains(r))
                && p.billing_period.starts_with("2025")
        })
        .count();
    assert!(expected > 0);
    assert_eq!(one.payments.len(), expected);
    assert!(
        one.payments.len()
            < invoice_year(&client, &whole(CLARA), Some(2025))
                .await
                .unwrap()
                .payments
                .len()
    );

    // The business pays consolidated charges that name no rental: a one-order link cannot
    // tie them to its order, so it shows none, while the whole account shows them.
    let business_order = Scope {
        customer_id: DANA.into(),
        order_id: Some("ord_10020".into()),
        types: None,
    };
    let consolidated = invoice_year(&client, &business_order, Some(2025))
        .await
        .unwrap();
    assert!(consolidated.payments.is_empty());
    assert!(!consolidated.invoices.is_empty());
    let business = invoice_year(&client, &whole(DANA), Some(2025))
        .await
        .unwrap();
    assert_eq!(business.payments.len(), 12);
}

#[tokio::test]
async fn a_business_year_of_invoices_comes_a_quarter_at_a_time_with_totals() {
    let sim = sim().await;
    let client = client(&sim);
    let year = invoice_year(&client, &whole(DANA), Some(2025))
        .await
        .unwrap();
    let first = invoices(&client, &whole(DANA), Some(2025), 1)
        .await
        .unwrap();
    assert_eq!(first.year, Some(2025));
    // The counts are the stand-in's own: the business's invoices of 2025, and a payment a month.
    let invoices_2025 = crate::common::demo_files(DANA)
        .into_iter()
        .filter(|f| f.file_type == "invoice" && f.year == "2025")
        .count();
    assert!(invoices_2025 > 0);
    assert_eq!(first.invoice_count, invoices_2025);
    assert_eq!(first.payment_count, 12);
    assert_eq!(year.invoices.len(), invoices_2025);
    assert_eq!(first.months.len(), 3);
    let months: Vec<&str> = first.months.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(months, ["2025-12", "2025-11", "2025-10"]);
    // Every invoice of the year is on exactly one page, in the month of its date.
    let mut seen = 0;
    for page in 1..=first.page_count {
        let history = invoices(&client, &whole(DANA), Some(2025), page)
            .await
            .unwrap();
        assert_eq!(history.page, page);
        for month in &history.months {
            assert!(month.invoices.iter().all(|r| r
                .created
                .as_deref()
                .is_some_and(|c| c.starts_with(&month.month))));
            seen += month.invoices.len();
        }
    }
    assert_eq!(seen, year.invoices.len());
    assert_eq!(first.page_count, 4);
    // A month with payments says what they add up to.
    let december = &first.months[0];
    assert!(!december.payments.is_empty());
    assert!(!december.totals.is_empty());
    assert!(december.totals.iter().all(|t| t.amount.currency == "EUR"));
    // A page past the end shows the last.
    let past = invoices(&client, &whole(DANA), Some(2025), 99)
        .await
        .unwrap();
    assert_eq!(past.page, first.page_count);
}

#[tokio::test]
async fn the_business_customers_orders_page_and_filter() {
    use folio::documents::model::OrderQuery;
    let sim = sim().await;
    let client = client(&sim);
    let overview = overview(&client, &whole(DANA)).await.unwrap();
    assert_eq!(overview.order_count, 44);
    assert_eq!(overview.orders.len(), 5);
    let all = orders(&client, &whole(DANA), OrderQuery::default(), Vec::new())
        .await
        .unwrap();
    assert_eq!((all.total, all.page_count, all.orders.len()), (44, 3, 20));
    let status = all.statuses[0].status.clone();
    let (query, _) = OrderQuery::from_query_pairs([("status", status.as_str())]);
    let some = orders(&client, &whole(DANA), query, Vec::new())
        .await
        .unwrap();
    assert_eq!(some.total, all.statuses[0].count);
    assert!(some.orders.iter().all(|o| o.status == status));
    // A customer's orders are exactly their own, whatever the filter.
    let bens: BTreeSet<String> = Oracle::new()
        .tenant
        .orders
        .iter()
        .filter(|o| o.customer.customer_id == BEN)
        .map(|o| o.order_id.clone())
        .collect();
    assert!(!bens.is_empty());
    let ben = orders(&client, &whole(BEN), OrderQuery::default(), Vec::new())
        .await
        .unwrap();
    let listed: BTreeSet<String> = ben.orders.iter().map(|o| o.id.clone()).collect();
    assert_eq!(listed, bens);
    let (query, _) = OrderQuery::from_query_pairs([("status", status.as_str())]);
    let filtered = orders(&client, &whole(BEN), query, Vec::new())
        .await
        .unwrap();
    assert!(filtered.orders.iter().all(|o| bens.contains(&o.id)));
}

#[tokio::test]
async fn upstream_500_429_and_hangs_are_unavailable() {
    let sim = sim().await;

    sim.faults.fail_next_with_500(20);
    assert_eq!(
        documents(&impatient_client(&sim), &whole(BEN), query(&[])).await,
        Err(AppError::Unavailable)
    );
    sim.faults.reset();

    sim.faults.fail_next_with_429(20, 30);
    assert_eq!(
        overview(&impatient_client(&sim), &whole(BEN)).await,
        Err(AppError::Unavailable)
    );
    sim.faults.reset();

    sim.faults.hang_next(5);
    let started = std::time::Instant::now();
    assert_eq!(
        authorize_file(
            &impatient_client(&sim),
            &whole(BEN),
            "file_200001",
            &asker()
        )
        .await,
        Err(AppError::Unavailable)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    sim.faults.reset();

    // A wrong key is the operator's problem, not the customer's: an internal error.
    let mut wrong = config(&sim);
    wrong.api_key = SecretString::from("fp_wrong".to_owned());
    let answer = documents(&Client::new(wrong).unwrap(), &whole(BEN), query(&[])).await;
    assert!(
        matches!(answer, Err(AppError::Internal { .. })),
        "{answer:?}"
    );
    assert!(!format!("{answer:?}").contains("INVALID_TOKEN"));
}

#[tokio::test]
async fn a_failing_upstream_serves_the_last_answer_marked_stale() {
    let sim = sim().await;
    let mut config = config(&sim);
    // Every read waits for FlexPortal; the kept answer serves only when it fails.
    config.freshness = flexportal::Freshness::flat(Duration::ZERO);
    config.stale_while_revalidate = false;
    config.max_retries = 0;
    let client = Client::new(config).unwrap();
    let fresh = documents(&client, &whole(BEN), query(&[])).await.unwrap();
    assert!(!fresh.age.stale);
    sim.faults.fail_next_with_500(100);
    let stale = documents(&client, &whole(BEN), query(&[])).await.unwrap();
    assert!(stale.age.stale);
    assert_eq!(stale.rows, fresh.rows);
}

#[tokio::test]
async fn upstream_calls_for_a_cold_and_a_warm_view_of_the_business() {
    let sim = sim().await;
    let client = client(&sim);
    sim.counters.reset();
    documents(&client, &whole(DANA), query(&[])).await.unwrap();
    let cold = sim.counters.snapshot();
    println!("cold documents() of the business: {cold:?}");
    assert_eq!(sim.counters.get("GET /v1/customers/{customerId}"), 1);
    assert_eq!(sim.counters.get("GET /v1/orders"), 1);
    assert_eq!(sim.counters.get("GET /v1/orders/{orderId}"), 0);
    // One list per order, and a second page for the order with 149 files.
    assert_eq!(sim.counters.get("GET /v1/files"), 45);
    assert_eq!(sim.counters.total(), 47);

    sim.counters.reset();
    documents(
        &client,
        &whole(DANA),
        query(&[("page", "3"), ("sort", "name_asc")]),
    )
    .await
    .unwrap();
    overview(&client, &whole(DANA)).await.unwrap();
    order_detail(&client, &whole(DANA), "ord_10019")
        .await
        .unwrap();
    assert_eq!(sim.counters.total(), 0, "warm views answer from the cache");
}

// ---------------------------------------------------------------------------------------------
// A hostile upstream: every list returns other customers' and other tenants' data.
// ---------------------------------------------------------------------------------------------

mod hostile {
    use axum::extract::Path;
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;

    pub const TENANT: &str = "bu_ours";

    fn order(id: &str, customer: &str, tenant: &str) -> String {
        format!(
            r#"{{"orderId":"{id}","tenantId":"{tenant}","status":"fulfilled",
            "customer":{{"customerId":"{customer}","email":"x@example.com","firstName":"X","lastName":"Y"}},
            "items":[{{"sku":"S","productName":"Laptop","quantity":2,"unitPrice":10.5,"contractLength":12,"acquisitionCost":900}}],
            "totals":{{"subtotal":21,"taxAmount":3.99,"total":24.99,"currency":"EUR"}},
            "createdAt":"2025-03-01T10:00:00Z"}}"#
        )
    }

    fn file(id: &str, order: &str, tenant: &str, kind: &str) -> String {
        format!(
            r#"{{"fileId":"{id}","tenantId":"{tenant}","orderId":"{order}","type":"{kind}",
            "filename":"{id}.pdf","contentType":"application/pdf","fileSize":100,
            "storagePath":"secret/{id}","createdAt":"2025-03-02T10:00:00Z"}}"#
        )
    }

    fn files() -> Vec<String> {
        vec![
            file("file_a1", "ord_a1", TENANT, "contract"),
            file("file_x", "ord_x", TENANT, "invoice"),
            file("file_b1", "ord_b1", TENANT, "contract"),
            file("file_t", "ord_t", TENANT, "contract"),
            file("file_tenant", "", TENANT, "document"),
            file("file_elsewhere", "ord_a1", "bu_other", "document"),
        ]
    }

    fn json(body: String) -> axum::response::Response {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }

    fn not_found() -> axum::response::Response {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"code":"NOT_FOUND","message":"nope"}}"#,
        )
            .into_response()
    }

    pub fn router() -> Router {
        Router::new()
            .route(
                "/v1/customers/{id}",
                get(|Path(id): Path<String>| async move {
                    if id != "cust_a" {
                        return not_found();
                    }
                    json(r#"{"customerId":"cust_a","tenantId":"bu_ours","email":"a@example.com",
                        "orderIds":["ord_a1","ord_b1","ord_x","ord_gone"]}"#.to_owned())
                }),
            )
            .route(
                "/v1/orders",
                get(|| async {
                    // Ignores the customerId filter, and one order is from another tenant.
                    json(format!(
                        r#"{{"orders":[{},{},{}],"count":3,"limit":100,"hasMore":false,"nextCursor":null}}"#,
                        order("ord_a1", "cust_a", TENANT),
                        order("ord_b1", "cust_b", TENANT),
                        order("ord_t", "cust_a", "bu_other"),
                    ))
                }),
            )
            .route(
                "/v1/orders/{id}",
                get(|Path(id): Path<String>| async move {
                    match id.as_str() {
                        "ord_x" => json(order("ord_x", "cust_a", TENANT)),
                        "ord_b1" => json(order("ord_b1", "cust_b", TENANT)),
                        "ord_a1" => json(order("ord_a1", "cust_a", TENANT)),
                        _ => not_found(),
                    }
                }),
            )
            .route(
                "/v1/files",
                get(|| async {
                    // Ignores the orderId filter: every file of the tenant, every time.
                    json(format!(r#"{{"files":[{}],"count":6}}"#, files().join(",")))
                }),
            )
            .route(
                "/v1/files/{id}",
                get(|Path(id): Path<String>| async move {
                    files()
                        .into_iter()
                        .find(|f| f.contains(&format!(r#""fileId":"{id}""#)))
                        .map(json)
                        .unwrap_or_else(not_found)
                }),
            )
    }
}

#[tokio::test]
async fn ownership_is_derived_even_when_the_upstream_returns_everything() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, hostile::router()).await });
    let client = Client::new(ClientConfig::new(
        format!("http://{addr}"),
        hostile::TENANT,
        SecretString::from("key".to_owned()),
    ))
    .unwrap();
    let scope = whole("cust_a");

    let owned = owned_orders(&client, &scope).await.unwrap();
    let ids: BTreeSet<&str> = owned.orders.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(
        ids,
        ["ord_a1", "ord_x"].into(),
        "listed, plus looked up and re-checked"
    );

    let list = documents(&client, &scope, query(&[])).await.unwrap();
    let seen: BTreeSet<&str> = list.rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(seen, ["file_a1", "file_x"].into());

    for refused in [
        "file_b1",
        "file_t",
        "file_tenant",
        "file_elsewhere",
        "file_none",
    ] {
        assert_eq!(
            authorize_file(&client, &scope, refused, &asker()).await,
            Err(AppError::NotFound),
            "{refused}"
        );
    }
    assert_eq!(
        authorize_file(&client, &scope, "file_a1", &asker())
            .await
            .unwrap()
            .id,
        "file_a1"
    );
    for refused in ["ord_b1", "ord_t", "ord_gone"] {
        assert_eq!(
            order_detail(&client, &scope, refused).await,
            Err(AppError::NotFound),
            "{refused}"
        );
    }
    let detail = order_detail(&client, &scope, "ord_x").await.unwrap();
    let in_order: Vec<&str> = detail
        .documents
        .iter()
        .flat_map(|g| g.documents.iter().map(|d| d.id.as_str()))
        .collect();
    assert_eq!(in_order, vec!["file_x"]);
    assert_eq!(detail.items[0].monthly_unit_price.amount, "10.50");
    assert_eq!(detail.tax.amount, "3.99");

    // Nothing merchant-internal reaches the view types.
    let json = format!("{list:?}{detail:?}");
    for secret in [
        "secret/",
        "storagePath",
        "acquisition",
        "bu_ours",
        "bu_other",
    ] {
        assert!(!json.contains(secret), "{secret} leaked");
    }
    server.abort();
}
