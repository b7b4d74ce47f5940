use leptos::prelude::*;

use super::parts::StaffOnly;
use crate::documents::archives::Archives;

/// `/manage/archives`: the ZIP archives a staff member had made of customers' documents.
#[component]
pub fn StaffArchivesPage() -> impl IntoView {
    view! {
        <StaffOnly>
            <Archives staff=true />
        </StaffOnly>
    }
}
