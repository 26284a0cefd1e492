//! Times as the admin's browser shows them: in its own time zone and language, with the zone's
//! name, so that "02:00" is never ambiguous.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_core::times::in_utc;
use web_sys::js_sys::{Array, Date, Function, Intl, Object, Reflect};

thread_local! {
    /// The browser's formatter of dates and times (its language and time zone), made once.
    static FORMAT: Function = {
        let options = Object::new();
        for (key, value) in [
            ("weekday", "short"),
            ("year", "numeric"),
            ("month", "short"),
            ("day", "numeric"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
            ("timeZoneName", "short"),
        ] {
            // Setting a property of a plain object cannot fail.
            let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
        }
        // No locales: the browser's own.
        Intl::DateTimeFormat::new(&Array::new(), &options).format()
    };
}

/// The browser's IANA time zone (e.g. `Europe/Berlin`), as
/// `Intl.DateTimeFormat().resolvedOptions().timeZone` says; `None` if it says nothing.
pub fn browser_time_zone() -> Option<String> {
    let options = Intl::DateTimeFormat::new(&Array::new(), &Object::new()).resolved_options();
    Reflect::get(&options, &JsValue::from_str("timeZone"))
        .ok()?
        .as_string()
        .filter(|zone| !zone.is_empty())
}

/// The time now, by the browser's clock.
pub fn now() -> DateTime<Utc> {
    // `Date.now()` is a whole number of milliseconds.
    DateTime::from_timestamp_millis(Date::now() as i64).unwrap_or_default()
}

/// `at` in the browser's language and time zone, e.g. `Sat, May 4, 2027, 04:00 AM GMT+2`; in
/// UTC (`2027-05-04 02:00 UTC`) if the browser cannot format it.
pub fn local_time(at: DateTime<Utc>) -> String {
    let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    FORMAT
        .with(|format| format.call1(&JsValue::UNDEFINED, &date))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| in_utc(at))
}

/// A `<time>` showing `at` in the browser's time zone, with the exact time in its `datetime`
/// and the UTC time as its tooltip.
#[component]
pub fn LocalTime(
    /// The moment to show.
    at: DateTime<Utc>,
) -> impl IntoView {
    view! {
        <time datetime=at.to_rfc3339() title=in_utc(at)>{local_time(at)}</time>
    }
}
