//! Toasts: short messages that slide in at the corner (notifications from admins, low-stock
//! alerts, new orders). Shared through context; info toasts fade after a while, warnings and
//! critical ones stay until dismissed.

use crate::api::Severity;
use leptos::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub severity: Severity,
    pub text: String,
    /// Toasts about the same thing (one order) replace each other instead of stacking.
    pub key: Option<String>,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

/// How long an info toast stays.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const INFO_MS: u64 = 8_000;
/// Toasts on screen at most.
const MAX_TOASTS: usize = 3;

/// Which toast goes when one too many are shown (the last one is the newest): the oldest
/// information, as a warning stays until read; among warnings only, the oldest. Never the one
/// just pushed while an older one can go: a busy board's "New order" toasts must be seen
/// however many low-stock warnings wait.
fn to_drop(items: &[Toast]) -> usize {
    let older = &items[..items.len().saturating_sub(1)];
    older.iter().position(|t| t.severity == Severity::Info).unwrap_or(0)
}

impl Toasts {
    pub fn provide() -> Toasts {
        let toasts = Toasts { items: RwSignal::new(Vec::new()), next: StoredValue::new(0) };
        provide_context(toasts);
        toasts
    }

    pub fn use_context() -> Toasts {
        expect_context::<Toasts>()
    }

    pub fn push(&self, severity: Severity, text: impl Into<String>) {
        self.push_keyed(severity, None, text);
    }

    /// Like [`Toasts::push`], replacing any toast with the same `key`.
    pub fn push_keyed(&self, severity: Severity, key: Option<String>, text: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| {
            if key.is_some() {
                items.retain(|t| t.key != key);
            }
            items.push(Toast { id, severity, text: text.into(), key });
            if items.len() > MAX_TOASTS {
                items.remove(to_drop(items));
            }
        });
        #[cfg(feature = "hydrate")]
        if severity == Severity::Info {
            let toasts = *self;
            set_timeout(move || toasts.dismiss(id), std::time::Duration::from_millis(INFO_MS));
        }
    }

    pub fn dismiss(&self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// The toasts in the corner, on every page: an island of its own (see [`crate::tab`]).
#[island]
pub fn Toaster() -> impl IntoView {
    crate::tab::enter();
    let toasts = Toasts::use_context();
    view! {
        <div class="toasts" role="region" aria-label="Notifications">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div
                    class=format!("toast toast-{}", severity_name(toast.severity))
                    role=if toast.severity == Severity::Critical { "alert" } else { "status" }
                >
                    <span class="toast-text">{toast.text.clone()}</span>
                    <button type="button" class="toast-close" aria-label="Dismiss" on:click=move |_| toasts.dismiss(toast.id)>
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toasts(severities: &[Severity]) -> Vec<Toast> {
        severities.iter().enumerate().map(|(i, &severity)| Toast { id: i as u64, severity, text: String::new(), key: None }).collect()
    }

    #[test]
    fn the_oldest_information_goes_first_and_never_the_newest_toast() {
        use Severity::{Info, Warning};
        assert_eq!(to_drop(&toasts(&[Warning, Info, Info, Info])), 1);
        // Three warnings waiting and a new order: the oldest warning makes room, not the order.
        assert_eq!(to_drop(&toasts(&[Warning, Warning, Warning, Info])), 0);
        assert_eq!(to_drop(&toasts(&[Warning, Warning, Info, Warning])), 2);
    }
}
