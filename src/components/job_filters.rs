//! The jobs list filters: name, job id prefix, status.

use leptos::prelude::*;

use crate::job_query::JobFilter;
use crate::status::STATUS_FILTERS;

/// Inputs bound to `filter`; each keystroke filters the live list.
#[component]
pub fn JobFilters(filter: RwSignal<JobFilter>) -> impl IntoView {
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="filter-name">"Name"</label>
                <input
                    id="filter-name"
                    data-shortcut="filter"
                    type="search"
                    placeholder="any name"
                    autocomplete="off"
                    prop:value=move || filter.read().name.clone()
                    on:input=move |ev| filter.update(|f| f.name = event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="filter-id">"Job ID prefix"</label>
                <input
                    id="filter-id"
                    type="search"
                    placeholder="e.g. 3f2c"
                    autocomplete="off"
                    spellcheck="false"
                    class="mono"
                    prop:value=move || filter.read().id_prefix.clone()
                    on:input=move |ev| filter.update(|f| f.id_prefix = event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select
                    id="filter-status"
                    prop:value=move || filter.read().status.clone()
                    on:change=move |ev| filter.update(|f| f.status = event_target_value(&ev))
                >
                    {STATUS_FILTERS
                        .iter()
                        .map(|(value, label)| {
                            view! {
                                <option
                                    value=*value
                                    selected=move || filter.read().status == *value
                                >
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
        </form>
    }
}
