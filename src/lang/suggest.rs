//! "Did you mean" suggestions: the known name closest to a misspelt one,
//! for rule files, `backstop.yaml` and inventories alike.

/// The candidate closest to `wrong`, when one is close enough to be what
/// was meant.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggestions_find_close_names() {
        assert_eq!(
            closest("backup_retention_day", ["backup_retention_days", "engine"]),
            Some("backup_retention_days")
        );
        assert_eq!(closest("zzz", ["engine"]), None);
    }
}
