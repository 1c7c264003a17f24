//! Keyboard shortcuts, as in mail and issue trackers: `g` then a letter goes to a page, `/`
//! focuses the page's filter, `?` lists them. Pure: what a key means after the previous one.

/// Where `g` + key goes, with the key and the page's name (also the help dialog's rows).
pub const GO_TO: [(&str, &str, &str); 7] = [
    ("o", "/", "Overview"),
    ("j", "/jobs", "Jobs"),
    ("u", "/submit", "Submit (upload) a job"),
    ("c", "/compose", "Compose a job"),
    ("s", "/studies", "Studies"),
    ("k", "/kiosk-tokens", "Screens (kiosk links)"),
    ("w", "/wall", "Wall screen"),
];

/// The single keys, for the help dialog.
pub const SINGLE_KEYS: [(&str, &str); 3] = [
    ("/", "Focus the filter (jobs, logs)"),
    ("?", "Show or hide this list"),
    ("Esc", "Close a dialog"),
];

/// What a key press does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// `g` was pressed: the next key picks a page.
    AwaitPage,
    /// Go to this path.
    Go(&'static str),
    /// Focus the page's filter field.
    FocusFilter,
    /// Show or hide the list of shortcuts.
    ToggleHelp,
    /// Not a shortcut.
    Nothing,
}

/// The meaning of `key` (a `KeyboardEvent.key`), `after_g` when the key before it was `g`.
pub fn step(after_g: bool, key: &str) -> Step {
    if after_g {
        return GO_TO
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(Step::Nothing, |(_, path, _)| Step::Go(path));
    }
    match key {
        "g" => Step::AwaitPage,
        "/" => Step::FocusFilter,
        "?" => Step::ToggleHelp,
        _ => Step::Nothing,
    }
}

/// True when a key press belongs to what the user is typing into, not to the page: a text
/// field, a select, an editable element, or a key with Ctrl / Alt / Meta held.
pub fn belongs_to_field(tag: &str, editable: bool, modifier: bool) -> bool {
    modifier || editable || matches!(tag, "INPUT" | "TEXTAREA" | "SELECT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_then_a_letter_goes_to_a_page() {
        assert_eq!(step(false, "g"), Step::AwaitPage);
        assert_eq!(step(true, "j"), Step::Go("/jobs"));
        assert_eq!(step(true, "o"), Step::Go("/"));
        assert_eq!(step(true, "w"), Step::Go("/wall"));
        // An unknown second key ends the sequence without doing anything.
        assert_eq!(step(true, "x"), Step::Nothing);
        assert_eq!(step(true, "g"), Step::Nothing);
        // A letter alone is not a shortcut.
        assert_eq!(step(false, "j"), Step::Nothing);
    }

    #[test]
    fn slash_and_question_mark() {
        assert_eq!(step(false, "/"), Step::FocusFilter);
        assert_eq!(step(false, "?"), Step::ToggleHelp);
        assert_eq!(step(true, "/"), Step::Nothing);
    }

    #[test]
    fn typing_in_fields_is_left_alone() {
        assert!(belongs_to_field("INPUT", false, false));
        assert!(belongs_to_field("TEXTAREA", false, false));
        assert!(belongs_to_field("SELECT", false, false));
        assert!(belongs_to_field("DIV", true, false));
        assert!(belongs_to_field("BODY", false, true));
        assert!(!belongs_to_field("BODY", false, false));
        assert!(!belongs_to_field("BUTTON", false, false));
    }

    #[test]
    fn every_page_key_is_distinct() {
        let mut keys: Vec<&str> = GO_TO.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), GO_TO.len());
    }
}
