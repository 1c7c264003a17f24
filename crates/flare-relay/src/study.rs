//! Study names: which study a socket or request asks for, and the name rule NVFlare's study
//! registry uses.

/// True for `default` or a registry study name: `^[a-z0-9_-]{1,63}$`.
pub fn is_valid(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Why a requested study cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StudyError {
    #[error("study {0:?} is not a valid study name: use `default` or ^[a-z0-9_-]{{1,63}}$")]
    Invalid(String),
    #[error("this kiosk link shows study {pinned:?} only, not {asked:?}")]
    Pinned { pinned: String, asked: String },
}

/// The study a request works in: `asked` (the `?study=` parameter) or the session's own study.
/// A kiosk session is pinned to its token's study (`pinned`).
pub fn resolve(asked: Option<&str>, own: &str, pinned: bool) -> Result<String, StudyError> {
    let Some(asked) = asked else {
        return Ok(own.to_owned());
    };
    if !is_valid(asked) {
        return Err(StudyError::Invalid(asked.chars().take(80).collect()));
    }
    if pinned && asked != own {
        return Err(StudyError::Pinned {
            pinned: own.to_owned(),
            asked: asked.to_owned(),
        });
    }
    Ok(asked.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_registry_rule() {
        for good in ["default", "a", "cancer-2026", "x_y", &"a".repeat(63)] {
            assert!(is_valid(good), "{good}");
        }
        for bad in ["", "Default", "a b", "a/b", "..", "é", &"a".repeat(64)] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn kiosk_sessions_are_pinned() {
        assert_eq!(resolve(None, "s1", true), Ok("s1".into()));
        assert_eq!(resolve(Some("s1"), "s1", true), Ok("s1".into()));
        assert!(matches!(
            resolve(Some("s2"), "s1", true),
            Err(StudyError::Pinned { .. })
        ));
        assert_eq!(resolve(Some("s2"), "s1", false), Ok("s2".into()));
        assert!(matches!(
            resolve(Some("S2"), "s1", false),
            Err(StudyError::Invalid(_))
        ));
    }
}
