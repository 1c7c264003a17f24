//! The jobs list filters: name, job id prefix, status.

use leptos::prelude::*;

use crate::components::search_field::SearchField;
use crate::job_query::JobFilter;
use crate::status::STATUS_FILTERS;

/// Inputs bound to `filter`; each keystroke filters the live list.
#[component]
pub fn JobFilters(filter: RwSignal<JobFilter>) -> impl IntoView {
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <SearchField
                    id="filter-name"
                    label="Name"
                    placeholder="any name"
                    shortcut=true
                    value=Signal::derive(move || filter.read().name.clone())
                    on_input=Callback::new(move |v| filter.update(|f| f.name = v))
                />
            </div>
            <div class="field">
                <SearchField
                    id="filter-id"
                    label="Job ID prefix"
                    placeholder="e.g. 3f2c"
                    literal=true
                    class="mono"
                    value=Signal::derive(move || filter.read().id_prefix.clone())
                    on_input=Callback::new(move |v| filter.update(|f| f.id_prefix = v))
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
