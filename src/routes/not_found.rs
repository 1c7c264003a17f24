//! Any other path: a page that says so and links home.

use leptos::prelude::*;

/// The not-found page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    crate::app::set_title("Page not found");
    view! {
        <main class="center-page">
            <section class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address. Check the link, or start from the overview."</p>
                <p>
                    <a class="btn btn-primary" href="/">
                        "Go to the overview"
                    </a>
                </p>
            </section>
        </main>
    }
}
