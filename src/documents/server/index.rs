//! Every document a scope may see, derived once per set of answers, and the pages of it that
//! a query asks for.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use flexportal::model::File;

use super::derived::Size;
use super::ownership::{visible, OwnedOrders};
use super::rows::row;
use crate::base::server::principal::Scope;
use crate::base::who::DocType;
use crate::documents::model::{
    DataAge, DocumentFacets, DocumentList, DocumentQuery, DocumentRow, QueryNotice, Sort, TypeCount,
};

/// The visible rows of a scope, newest first, with what the filters offer.
pub(super) fn build_index(
    lists: &[Arc<Vec<File>>],
    owned: &OwnedOrders,
    tenant: &str,
    scope: &Scope,
) -> DocumentIndex {
    let mut seen = HashSet::new();
    let rows: Vec<DocumentRow> = lists
        .iter()
        .flat_map(|l| l.iter())
        .filter(|f| visible(f, owned, tenant, scope))
        .filter(|f| seen.insert(f.file_id.as_str()))
        .map(row)
        .collect();
    let facets = facets(&rows, owned);
    DocumentIndex::new(rows, facets)
}

/// Every document one scope may see, derived from one set of upstream answers.
#[derive(Debug)]
pub(super) struct DocumentIndex {
    /// Newest first: in [`Sort::DateDesc`] order.
    pub(super) rows: Vec<DocumentRow>,
    /// Where each file's row is.
    by_id: HashMap<String, usize>,
    /// When it was derived: about when its newest answer was fetched.
    pub(super) built: std::time::Instant,
    /// Each row's name in lower case, for the search and the name sorts.
    names: Vec<String>,
    pub(super) facets: DocumentFacets,
}

impl DocumentIndex {
    pub(super) fn find(&self, file_id: &str) -> Option<&DocumentRow> {
        self.by_id.get(file_id).map(|&i| &self.rows[i])
    }

    pub(super) fn new(mut rows: Vec<DocumentRow>, facets: DocumentFacets) -> Self {
        sort_rows(&mut rows, Sort::DateDesc);
        let names = rows.iter().map(|r| r.name.to_lowercase()).collect();
        let by_id = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Self {
            by_id,
            built: std::time::Instant::now(),
            rows,
            names,
            facets,
        }
    }
}

impl Size for DocumentIndex {
    fn size(&self) -> usize {
        self.rows.len().max(1)
    }
}

pub(super) fn type_counts(rows: &[DocumentRow]) -> Vec<TypeCount> {
    DocType::ALL
        .into_iter()
        .map(|doc_type| TypeCount {
            doc_type,
            count: rows.iter().filter(|r| r.doc_type == doc_type).count(),
        })
        .filter(|c| c.count > 0)
        .collect()
}

pub(super) fn facets(rows: &[DocumentRow], owned: &OwnedOrders) -> DocumentFacets {
    let years: BTreeSet<i32> = rows.iter().filter_map(|r| r.year).collect();
    let with_documents: HashSet<&str> = rows.iter().map(|r| r.order_id.as_str()).collect();
    DocumentFacets {
        years: years.into_iter().rev().collect(),
        orders: owned
            .orders
            .iter()
            .filter(|o| with_documents.contains(o.order_id.as_str()))
            .map(|o| o.order_id.clone())
            .collect(),
        types: type_counts(rows),
    }
}

/// Applies a query's filters, order and page to every visible row. Only the page's rows are
/// copied out of the index.
pub(super) fn page_of(
    index: &DocumentIndex,
    mut query: DocumentQuery,
    mut notices: Vec<QueryNotice>,
    age: DataAge,
) -> DocumentList {
    let matching = matching(index, &query);
    let per_page = DocumentQuery::PER_PAGE;
    let total = matching.len();
    let page_count = u32::try_from(total.div_ceil(per_page as usize))
        .unwrap_or(u32::MAX)
        .max(1);
    if query.page == 0 {
        query.page = 1;
    } else if query.page > page_count {
        notices.push(QueryNotice {
            param: "page".to_owned(),
            value: query.page.to_string(),
        });
        query.page = page_count;
    }
    let start = (query.page as usize - 1) * per_page as usize;
    let rows = matching
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|&i| index.rows[i].clone())
        .collect();
    DocumentList {
        rows,
        total,
        page: query.page,
        page_count,
        per_page,
        query,
        notices,
        facets: index.facets.clone(),
        age,
    }
}

/// Where the rows that match a query's filters are in the index, in the query's order, on
/// every page.
pub(super) fn matching(index: &DocumentIndex, query: &DocumentQuery) -> Vec<usize> {
    let needle = query.q.as_deref().map(str::to_lowercase);
    let mut matching: Vec<usize> = (0..index.rows.len())
        .filter(|&i| {
            let r = &index.rows[i];
            query.doc_type.is_none_or(|t| r.doc_type == t)
                && query.order.as_deref().is_none_or(|o| r.order_id == o)
                && query.year.is_none_or(|y| r.year == Some(y))
                && needle.as_deref().is_none_or(|n| index.names[i].contains(n))
        })
        .collect();
    // The index is in `DateDesc` order, and filtering keeps it.
    if query.sort != Sort::DateDesc {
        matching.sort_by(|&a, &b| {
            row_order(
                query.sort,
                (&index.rows[a], &index.names[a]),
                (&index.rows[b], &index.names[b]),
            )
        });
    }
    matching
}

/// Sorts by the chosen key, then by file id, so equal keys keep one order across pages.
/// Unknown dates and sizes count as the smallest.
pub(super) fn sort_rows(rows: &mut Vec<DocumentRow>, sort: Sort) {
    match sort {
        Sort::NameAsc | Sort::NameDesc => {
            let mut keyed: Vec<(String, DocumentRow)> =
                rows.drain(..).map(|r| (r.name.to_lowercase(), r)).collect();
            keyed.sort_by(|(an, a), (bn, b)| row_order(sort, (a, an), (b, bn)));
            rows.extend(keyed.into_iter().map(|(_, r)| r));
        }
        _ => rows.sort_by(|a, b| row_order(sort, (a, ""), (b, ""))),
    }
}

/// The order of two rows, each with its name in lower case (needed by the name sorts only).
fn row_order(
    sort: Sort,
    (a, a_name): (&DocumentRow, &str),
    (b, b_name): (&DocumentRow, &str),
) -> Ordering {
    let key = match sort {
        Sort::DateDesc => b.created.cmp(&a.created),
        Sort::DateAsc => a.created.cmp(&b.created),
        Sort::SizeAsc => a.size.cmp(&b.size),
        Sort::SizeDesc => b.size.cmp(&a.size),
        Sort::NameAsc => a_name.cmp(b_name),
        Sort::NameDesc => b_name.cmp(a_name),
    };
    key.then_with(|| a.id.cmp(&b.id))
}
