//! Light and dark themes: the system preference by default, a toggle remembered in localStorage.

/// localStorage key of the chosen theme.
const STORAGE_KEY: &str = "flare-console-theme";

/// A colour theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// The `data-theme` value and stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// Parses a stored word.
    pub fn parse(word: &str) -> Option<Theme> {
        match word {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    /// The other theme.
    pub fn toggled(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The theme the user chose earlier, if any.
pub fn stored() -> Option<Theme> {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|w| Theme::parse(&w))
}

/// The stored choice, else the system's `prefers-color-scheme`.
pub fn initial() -> Theme {
    if let Some(theme) = stored() {
        return theme;
    }
    let prefers_dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    if prefers_dark {
        Theme::Dark
    } else {
        Theme::Light
    }
}

/// Shows `theme` (sets `data-theme` on `<html>`); remembers it when `remember`.
pub fn apply(theme: Theme, remember: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        // A missing attribute only means the CSS falls back to the system preference.
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if remember && let Some(s) = storage() {
        // Private mode may refuse storage; the toggle still works for this tab.
        let _ = s.set_item(STORAGE_KEY, theme.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_words_round_trip() {
        for theme in [Theme::Light, Theme::Dark] {
            assert_eq!(Theme::parse(theme.as_str()), Some(theme));
            assert_eq!(theme.toggled().toggled(), theme);
        }
        assert_eq!(Theme::parse("blue"), None);
    }
}
