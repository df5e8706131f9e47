//! AWS's own names, checked where users write them: a misspelt region or
//! account would otherwise match nothing, or fail as a DNS error on every
//! call.

/// A region name as AWS spells them (`eu-west-1`, `us-gov-east-1`), so a
/// typo is reported here rather than as a DNS failure for every call.
pub fn check_region(region: &str) -> Result<(), String> {
    if is_region(region) {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name (like eu-west-1)"
        ))
    }
}

/// An AWS account id: exactly 12 digits (quote it in YAML to keep leading
/// zeros).
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{account:?} is not an AWS account id (12 digits, like \"123456789012\")"
        ))
    }
}

/// An IAM role name: 1 to 64 letters, digits and `+=,.@_-` (IAM's own
/// rule), so that it fits an ARN as it is.
pub fn check_role_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (1..=64).contains(&name.len()) && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an IAM role name (1 to 64 letters, digits and +=,.@_-)"
        ))
    }
}

/// Whether `name` is shaped like a region name (`eu-west-1`).
pub fn is_region(name: &str) -> bool {
    static REGION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$").expect("valid regex")
    });
    REGION.is_match(name)
}
