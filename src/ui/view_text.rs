//! Text a view shows, worked out once per page rather than once per build of the view.
//!
//! While the server renders a page, its `Suspense` walks the view twice (to find the
//! resources it reads) before the build it renders: a view under a resource is built three
//! times. Formatting dates, sizes, labels and links for dozens of rows then costs more than
//! rendering them. A page keeps such text in a [`TextCache`] and each build copies pointers.

use std::sync::{Arc, Mutex, Weak};

use crate::i18n::Locale;

/// The text made from one value (a resource's answer) in one language. A new value or
/// another language makes it anew.
pub struct TextCache<T, V> {
    slot: Arc<Mutex<Option<Kept<T, V>>>>,
}

struct Kept<T, V> {
    /// Which value the text was made from: the same allocation (held weakly, so that its
    /// address is not reused while this lives).
    from: Weak<T>,
    locale: Locale,
    text: Arc<V>,
}

impl<T, V> Clone for TextCache<T, V> {
    fn clone(&self) -> Self {
        Self {
            slot: self.slot.clone(),
        }
    }
}

impl<T, V> Default for TextCache<T, V> {
    fn default() -> Self {
        Self {
            slot: Arc::new(Mutex::new(None)),
        }
    }
}

impl<T, V> TextCache<T, V> {
    /// The text for `value` in `locale`, made by `make` unless it is kept already.
    pub fn get(&self, value: &Arc<T>, locale: Locale, make: impl FnOnce() -> V) -> Arc<V> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = slot.as_ref() {
            if std::ptr::eq(kept.from.as_ptr(), Arc::as_ptr(value)) && kept.locale == locale {
                return kept.text.clone();
            }
        }
        let text = Arc::new(make());
        *slot = Some(Kept {
            from: Arc::downgrade(value),
            locale,
            text: text.clone(),
        });
        text
    }
}

/// Reads `cache` when there is one, else makes the text.
pub fn cached<T, V>(
    cache: Option<&TextCache<T, V>>,
    value: &Arc<T>,
    locale: Locale,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    match cache {
        Some(cache) => cache.get(value, locale, make),
        None => Arc::new(make()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_made_once_per_value_and_language() {
        let cache: TextCache<String, String> = TextCache::default();
        let a = Arc::new("a".to_owned());
        let mut made = 0;
        let mut get = |v: &Arc<String>, locale| {
            cache.get(v, locale, || {
                made += 1;
                format!("{v}{made}")
            })
        };
        assert_eq!(*get(&a, Locale::en), "a1");
        assert_eq!(*get(&a, Locale::en), "a1");
        assert_eq!(*get(&a, Locale::de), "a2");
        // An equal value that is another answer is made anew.
        let b = Arc::new("a".to_owned());
        assert_eq!(*get(&b, Locale::de), "a3");
    }
}
