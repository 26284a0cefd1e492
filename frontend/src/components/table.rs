//! A data table as every page draws it: it scrolls sideways in a narrow window (a focusable
//! region named for screen readers), with a caption screen readers read and a header cell per
//! column.

use leptos::prelude::*;

/// The table's rows are its children. `label` names the region and is the caption; `columns`
/// heads the columns, an empty name being an actions column (named for screen readers only);
/// `actions`, when given, adds such a column while it is true.
#[component]
pub fn DataTable(
    label: &'static str,
    columns: &'static [&'static str],
    #[prop(optional)] id: Option<&'static str>,
    #[prop(default = "table")] class: &'static str,
    #[prop(optional, into)] actions: Option<Signal<bool>>,
    children: Children,
) -> impl IntoView {
    let head = |name: &'static str| {
        if name.is_empty() {
            view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> }.into_any()
        } else {
            view! { <th scope="col">{name}</th> }.into_any()
        }
    };
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label=label>
            <table id=id class=class>
                <caption class="visually-hidden">{label}</caption>
                <thead>
                    <tr>
                        {columns.iter().map(|name| head(name)).collect_view()}
                        {move || actions.is_some_and(|shown| shown.get()).then(|| head(""))}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
