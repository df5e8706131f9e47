//! The gap categories of a backup strategy: rules file their findings under
//! one, and reports group and order them by it.

/// The gap categories of a backup strategy, in report order: (id, heading).
pub static CATEGORIES: &[(&str, &str)] = &[
    ("retention", "Backup retention"),
    ("deletion-protection", "Deletion protection"),
    ("availability", "Availability and failover"),
    ("encryption", "Encryption"),
    ("cross-region", "Cross-region copies"),
    ("recovery-point", "Recovery point freshness"),
    ("restore-testing", "Restore testing"),
    ("alerting", "Backup-failure alerts"),
    ("configuration", "Configuration backups"),
    ("lifecycle", "Image lifecycle"),
    ("logging", "Log retention and centralization"),
    ("exposure", "Public exposure"),
];

/// Heading for a category id (the id itself when unknown).
pub fn category_heading(id: &str) -> &str {
    CATEGORIES
        .iter()
        .find(|(c, _)| *c == id)
        .map_or(id, |(_, heading)| heading)
}

/// Position of a category in report order; unknown ones sort last.
pub fn category_rank(id: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|(c, _)| *c == id)
        .unwrap_or(CATEGORIES.len())
}
