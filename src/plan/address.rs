//! Terraform addresses: `module.env["prod"].module.db.aws_db_instance.this[0]`.

/// Splits an address into its dot-separated steps, each with its instance
/// key (`env` and `"prod"` for `env["prod"]`); dots and brackets inside a
/// quoted key do not split.
fn steps(address: &str) -> Vec<(String, Option<String>)> {
    let mut steps = Vec::new();
    let mut name = String::new();
    let mut key: Option<String> = None;
    let mut chars = address.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => steps.push((std::mem::take(&mut name), key.take())),
            '[' => {
                let mut inside = String::new();
                let mut quoted = false;
                while let Some(k) = chars.next() {
                    match k {
                        '"' => {
                            quoted = !quoted;
                            inside.push(k);
                        }
                        '\\' if quoted => {
                            inside.push(k);
                            if let Some(escaped) = chars.next() {
                                inside.push(escaped);
                            }
                        }
                        ']' if !quoted => break,
                        _ => inside.push(k),
                    }
                }
                key = Some(inside);
            }
            _ => name.push(c),
        }
    }
    steps.push((name, key));
    steps
}

/// The module names of a module address, without instance keys:
/// `module.env["prod"].module.db` → `["env", "db"]`.
pub fn module_names(module_address: &str) -> Vec<String> {
    if module_address.is_empty() {
        return Vec::new();
    }
    let steps = steps(module_address);
    steps
        .chunks(2)
        .filter(|pair| pair.len() == 2 && pair[0].0 == "module")
        .map(|pair| pair[1].0.clone())
        .collect()
}

/// The instance key of a resource address (`0`, `"prod"` with its quotes),
/// `None` for a single instance.
pub fn instance_key(address: &str) -> Option<String> {
    steps(address).pop().and_then(|(_, key)| key)
}

/// A module-local reference to a managed resource:
/// `aws_s3_bucket.b[count.index].id` → type, name and key as written.
#[derive(Debug, PartialEq, Eq)]
pub struct Reference {
    pub resource_type: String,
    pub name: String,
    /// `None` (no key), a literal (`0`, `"a"`), or an expression such as
    /// `count.index` or `each.key`, which means "the referrer's own key".
    pub key: Option<String>,
}

impl Reference {
    /// `None` for references to anything but a managed resource
    /// (`var.x`, `local.x`, `module.m.out`, `data.t.n`, `each.value`, ...).
    pub fn parse(reference: &str) -> Option<Reference> {
        let steps = steps(reference);
        let (first, _) = steps.first()?;
        if matches!(
            first.as_str(),
            "var" | "local" | "module" | "data" | "each" | "count" | "path" | "terraform" | "self"
        ) {
            return None;
        }
        let (name, key) = steps.get(1)?.clone();
        Some(Reference {
            resource_type: first.clone(),
            name,
            key,
        })
    }

    /// True when the key is an expression that follows the referrer's own
    /// instance (`count.index`, `each.key`, ...), not a literal.
    pub fn follows_referrer(&self) -> bool {
        self.key.as_deref().is_some_and(|k| {
            let k = k.trim();
            !(k.starts_with('"') || k.chars().all(|c| c.is_ascii_digit()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_drop_instance_keys() {
        assert_eq!(
            module_names(r#"module.env["prod.eu"].module.db"#),
            vec!["env".to_string(), "db".to_string()]
        );
        assert_eq!(module_names("module.a[0]"), vec!["a".to_string()]);
        assert!(module_names("").is_empty());
    }

    #[test]
    fn instance_keys() {
        assert_eq!(instance_key("aws_s3_bucket.b[1]").as_deref(), Some("1"));
        assert_eq!(
            instance_key(r#"module.m["x"].aws_s3_bucket.b["a]b"]"#).as_deref(),
            Some(r#""a]b""#)
        );
        assert_eq!(instance_key(r#"module.m["x"].aws_s3_bucket.b"#), None);
    }

    #[test]
    fn references() {
        assert_eq!(
            Reference::parse("aws_s3_bucket.b.id"),
            Some(Reference {
                resource_type: "aws_s3_bucket".into(),
                name: "b".into(),
                key: None
            })
        );
        let r = Reference::parse("aws_s3_bucket.copies[count.index].id").unwrap();
        assert_eq!(r.key.as_deref(), Some("count.index"));
        assert!(r.follows_referrer());
        assert!(
            !Reference::parse("aws_s3_bucket.copies[0]")
                .unwrap()
                .follows_referrer()
        );
        assert_eq!(Reference::parse("var.bucket"), None);
        assert_eq!(Reference::parse("module.db.arn"), None);
        assert_eq!(Reference::parse("data.aws_iam_role.r.arn"), None);
    }
}
