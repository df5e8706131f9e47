//! Finds where a planned resource is written: the `file:line` of its `resource "TYPE" "NAME"`
//! block in the Terraform/OpenTofu configuration, following local `module` sources.
//! A plan's resources have no ids before apply, so the only stable anchor a finding can point
//! at is the block in the `.tf` files that declares it.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use hcl_edit::Span;
use hcl_edit::structure::{Block, Body};

/// Files bigger than this are skipped: they are user input and a configuration file is never
/// this large.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The deepest module nesting followed; a module that sources itself could go on for ever.
const MAX_MODULE_DEPTH: usize = 16;

/// The prefixes that make a module source a local path, as Terraform defines them.
const LOCAL_SOURCE_PREFIXES: [&str; 4] = ["./", "../", ".\\", "..\\"];

/// Finds resource blocks in a Terraform/OpenTofu configuration, following
/// `module` blocks with local sources.
#[derive(Debug)]
pub struct Locator {
    root: PathBuf,
    /// Indexed module directories, keyed by their lexically normalized path.
    dirs: HashMap<PathBuf, DirIndex>,
}

/// Where a resource block starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLocation {
    /// The file, as `root` joined with the module sources, lexically normalized, `/`-separated.
    pub file: String,
    /// 1-based line of the `resource` keyword.
    pub line: usize,
}

/// What one module directory declares at its top level.
#[derive(Debug, Default)]
struct DirIndex {
    /// `(type, name)` → where the `resource` block starts.
    resources: HashMap<(String, String), BlockLocation>,
    /// Module call name → its `source`, when that is a literal string.
    modules: HashMap<String, Option<String>>,
}

impl Locator {
    /// `root`: the directory of the root module (as the user gave it; may be relative).
    pub fn new(root: impl Into<PathBuf>) -> Locator {
        Locator {
            root: normalize(&root.into()),
            dirs: HashMap::new(),
        }
    }

    /// The `resource "TYPE" "NAME"` block of the module reached from the root
    /// through the module calls `module_path` (e.g. `["backup", "bucket"]` for
    /// `module.backup.module.bucket.aws_s3_bucket.this` — instance keys already
    /// stripped). `None` when a module source is not local, a directory or block
    /// is missing, or a file does not parse (log with `tracing::debug!`, never panic).
    pub fn locate(
        &mut self,
        module_path: &[&str],
        resource_type: &str,
        name: &str,
    ) -> Option<BlockLocation> {
        if module_path.len() > MAX_MODULE_DEPTH {
            tracing::debug!(
                depth = module_path.len(),
                max = MAX_MODULE_DEPTH,
                "module path too deep to follow"
            );
            return None;
        }
        let mut dir = self.root.clone();
        for call in module_path {
            let source = match self.index(&dir).modules.get(*call) {
                Some(Some(source)) => source.clone(),
                Some(None) => {
                    tracing::debug!(dir = %dir.display(), module = call, "module source is not a literal string");
                    return None;
                }
                None => {
                    tracing::debug!(dir = %dir.display(), module = call, "no module block");
                    return None;
                }
            };
            if !LOCAL_SOURCE_PREFIXES.iter().any(|p| source.starts_with(p)) {
                tracing::debug!(module = call, source = %source, "module source is not local");
                return None;
            }
            let mut next = dir;
            next.extend(source.split(['/', '\\']).filter(|part| !part.is_empty()));
            dir = normalize(&next);
        }
        let key = (resource_type.to_owned(), name.to_owned());
        let found = self.index(&dir).resources.get(&key).cloned();
        if found.is_none() {
            tracing::debug!(dir = %dir.display(), resource_type, name, "no resource block");
        }
        found
    }

    /// The index of module directory `dir` (normalized), read and parsed on first use.
    fn index(&mut self, dir: &Path) -> &DirIndex {
        if !self.dirs.contains_key(dir) {
            let index = index_dir(dir);
            self.dirs.insert(dir.to_path_buf(), index);
        }
        &self.dirs[dir]
    }
}

/// Reads every configuration file of `dir` (sorted by name, override files last, as Terraform
/// merges them) and records its top-level `resource` and `module` blocks. An unreadable
/// directory gives an empty index; an unreadable or unparsable file is skipped.
fn index_dir(dir: &Path) -> DirIndex {
    let mut index = DirIndex::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::debug!(dir = %dir.display(), error = %err, "cannot read module directory");
            return index;
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".tf") && !is_ignored(name))
        .collect();
    // Primary files first, then override files; each group by name.
    names.sort_by(|a, b| (is_override(a), a).cmp(&(is_override(b), b)));

    for file_name in names {
        let path = dir.join(&file_name);
        let Some(text) = read_config_file(&path) else {
            continue;
        };
        let body = match std::panic::catch_unwind(|| hcl_edit::parser::parse_body(&text)) {
            Ok(Ok(body)) => body,
            Ok(Err(err)) => {
                tracing::debug!(file = %path.display(), error = %err, "cannot parse file");
                continue;
            }
            Err(_) => {
                tracing::debug!(file = %path.display(), "HCL parser panicked");
                continue;
            }
        };
        index_body(
            &mut index,
            &body,
            &text,
            &display_path(&path),
            is_override(&file_name),
        );
    }
    index
}

fn index_body(index: &mut DirIndex, body: &Body, text: &str, file: &str, is_override: bool) {
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    for block in body.blocks() {
        if block.has_ident("resource") {
            let [resource_type, name] = block.labels.as_slice() else {
                continue;
            };
            let Some(span) = block.span() else {
                continue;
            };
            let key = (resource_type.as_str().to_owned(), name.as_str().to_owned());
            // An override file merges into the primary block, which stays the anchor.
            index.resources.entry(key).or_insert_with(|| BlockLocation {
                file: file.to_owned(),
                line: newlines.partition_point(|&at| at < span.start) + 1,
            });
        } else if block.has_ident("module") {
            let [name] = block.labels.as_slice() else {
                continue;
            };
            let source = module_source(block);
            let name = name.as_str().to_owned();
            if is_override {
                // An override file replaces the source only when it sets one.
                if block.body.has_attribute("source") {
                    index.modules.insert(name, source);
                }
            } else {
                index.modules.entry(name).or_insert(source);
            }
        }
    }
}

/// The `source` of a `module` block, when it is a literal string.
fn module_source(block: &Block) -> Option<String> {
    let attr = block.body.get_attribute("source")?;
    attr.value.as_str().map(str::to_owned)
}

/// The text of a configuration file, or `None` (logged) when it is not a regular file, is
/// bigger than [`MAX_FILE_BYTES`], cannot be read or is not UTF-8.
fn read_config_file(path: &Path) -> Option<String> {
    // Checked before opening: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        tracing::debug!(file = %path.display(), "not a regular file");
        return None;
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            tracing::debug!(file = %path.display(), error = %err, "cannot open file");
            return None;
        }
    };
    match file.metadata() {
        Ok(meta) if !meta.is_file() => {
            tracing::debug!(file = %path.display(), "not a regular file");
            return None;
        }
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            tracing::debug!(file = %path.display(), bytes = meta.len(), "file too big, skipped");
            return None;
        }
        Ok(_) => {}
        Err(err) => {
            tracing::debug!(file = %path.display(), error = %err, "cannot stat file");
            return None;
        }
    }
    let mut bytes = Vec::new();
    // The size is checked again on the read itself: the file may have grown since.
    if let Err(err) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        tracing::debug!(file = %path.display(), error = %err, "cannot read file");
        return None;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        tracing::debug!(file = %path.display(), "file too big, skipped");
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            tracing::debug!(file = %path.display(), "file is not UTF-8");
            None
        }
    }
}

/// Files Terraform ignores in a module directory: hidden files and editor leftovers.
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// `override.tf` and `*_override.tf`, which Terraform merges into the other files' blocks.
fn is_override(name: &str) -> bool {
    let stem = name.strip_suffix(".tf").unwrap_or(name);
    stem == "override" || stem.ends_with("_override")
}

/// `path` without `.` components and with each `..` cancelling the normal component before it,
/// without touching the file system. A `..` that has nothing to cancel stays, except right
/// after the root, where it is dropped. An empty result is `.`.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(component),
            },
            _ => parts.push(component),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

/// A normalized path as text with `/` separators, whatever the platform.
fn display_path(path: &Path) -> String {
    let mut out = String::new();
    for component in normalize(path).components() {
        match component {
            Component::Prefix(prefix) => out.push_str(&prefix.as_os_str().to_string_lossy()),
            Component::RootDir => out.push('/'),
            Component::CurDir => {
                if out.is_empty() {
                    out.push('.');
                }
            }
            Component::ParentDir | Component::Normal(_) => {
                if !out.is_empty() && !out.ends_with('/') {
                    out.push('/');
                }
                out.push_str(&component.as_os_str().to_string_lossy());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn at(file: &str, line: usize) -> Option<BlockLocation> {
        Some(BlockLocation {
            file: file.to_owned(),
            line,
        })
    }

    /// `dir` as text with `/` separators, for building expected paths.
    fn root_str(dir: &Path) -> String {
        display_path(dir)
    }

    #[test]
    fn root_module_resource() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nresource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n",
        );
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "aws_s3_bucket", "logs"),
            at(&format!("{root}/main.tf"), 5)
        );
        assert_eq!(locator.locate(&[], "aws_s3_bucket", "other"), None);
        assert_eq!(locator.locate(&[], "aws_db_instance", "logs"), None);
    }

    #[test]
    fn nested_local_modules_with_parent_dir_source() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "envs/prod/main.tf",
            "module \"backup\" {\n  source = \"../../modules/backup\"\n}\n",
        );
        write(
            tmp.path(),
            "modules/backup/main.tf",
            "module \"bucket\" {\n  source = \"./../bucket\"\n  name   = \"b\"\n}\n",
        );
        write(
            tmp.path(),
            "modules/bucket/s3.tf",
            "# bucket\n\nresource \"aws_s3_bucket\" \"this\" {\n  bucket = var.name\n}\n",
        );
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path().join("envs/prod"));
        assert_eq!(
            locator.locate(&["backup", "bucket"], "aws_s3_bucket", "this"),
            at(&format!("{root}/modules/bucket/s3.tf"), 3)
        );
        // The resource is in `bucket`, not in `backup`.
        assert_eq!(locator.locate(&["backup"], "aws_s3_bucket", "this"), None);
        assert_eq!(
            locator.locate(&["backup", "missing"], "aws_s3_bucket", "this"),
            None
        );
    }

    #[test]
    fn several_files_in_one_dir() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "b.tf",
            "resource \"aws_s3_bucket\" \"b\" {}\n\nresource \"aws_s3_bucket\" \"b2\" {}\n",
        );
        write(
            tmp.path(),
            "a.tf",
            "\n\nresource \"aws_db_instance\" \"a\" {\n}\n",
        );
        write(
            tmp.path(),
            "notes.txt",
            "resource \"aws_s3_bucket\" \"t\" {}\n",
        );
        write(
            tmp.path(),
            "main.tf.json",
            "{\"resource\": {\"aws_s3_bucket\": {\"j\": {}}}}\n",
        );
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "aws_db_instance", "a"),
            at(&format!("{root}/a.tf"), 3)
        );
        assert_eq!(
            locator.locate(&[], "aws_s3_bucket", "b"),
            at(&format!("{root}/b.tf"), 1)
        );
        assert_eq!(
            locator.locate(&[], "aws_s3_bucket", "b2"),
            at(&format!("{root}/b.tf"), 3)
        );
        // Only `*.tf` files are read.
        assert_eq!(locator.locate(&[], "aws_s3_bucket", "t"), None);
        assert_eq!(locator.locate(&[], "aws_s3_bucket", "j"), None);
    }

    #[test]
    fn first_file_by_name_wins_and_override_files_come_last() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "a_override.tf", "resource \"t\" \"x\" {}\n");
        write(tmp.path(), "b.tf", "\nresource \"t\" \"x\" {}\n");
        write(tmp.path(), "c.tf", "\n\nresource \"t\" \"x\" {}\n");
        write(tmp.path(), "override.tf", "resource \"t\" \"only\" {}\n");
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "t", "x"),
            at(&format!("{root}/b.tf"), 2)
        );
        assert_eq!(
            locator.locate(&[], "t", "only"),
            at(&format!("{root}/override.tf"), 1)
        );
    }

    #[test]
    fn override_file_can_change_a_module_source() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            "module \"m\" {\n  source = \"./one\"\n}\n",
        );
        write(
            tmp.path(),
            "main_override.tf",
            "module \"m\" {\n  source = \"./two\"\n}\n",
        );
        write(tmp.path(), "one/main.tf", "resource \"t\" \"x\" {}\n");
        write(tmp.path(), "two/main.tf", "\nresource \"t\" \"x\" {}\n");
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&["m"], "t", "x"),
            at(&format!("{root}/two/main.tf"), 2)
        );
    }

    #[test]
    fn registry_and_git_sources_are_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            r#"module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

module "git" {
  source = "git::https://example.com/mod.git//sub?ref=v1"
}

module "dotless" {
  source = "modules/local"
}

module "computed" {
  source = "./${var.dir}"
}
"#,
        );
        // Even when a directory of that name exists next to the root module.
        write(
            tmp.path(),
            "modules/local/main.tf",
            "resource \"t\" \"x\" {}\n",
        );
        write(
            tmp.path(),
            "terraform-aws-modules/vpc/aws/main.tf",
            "resource \"aws_vpc\" \"this\" {}\n",
        );
        let mut locator = Locator::new(tmp.path());
        assert_eq!(locator.locate(&["vpc"], "aws_vpc", "this"), None);
        assert_eq!(locator.locate(&["git"], "aws_vpc", "this"), None);
        assert_eq!(locator.locate(&["dotless"], "t", "x"), None);
        assert_eq!(locator.locate(&["computed"], "t", "x"), None);
    }

    #[test]
    fn missing_block_dir_or_module_is_none() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            "module \"gone\" {\n  source = \"./gone\"\n}\n\n# resource \"t\" \"commented\" {}\n\ndata \"t\" \"x\" {}\n",
        );
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "t", "x"),
            None,
            "a data block is no resource"
        );
        assert_eq!(locator.locate(&[], "t", "commented"), None);
        assert_eq!(locator.locate(&["gone"], "t", "x"), None);
        assert_eq!(locator.locate(&["nope"], "t", "x"), None);
        let mut locator = Locator::new(tmp.path().join("no-such-dir"));
        assert_eq!(locator.locate(&[], "t", "x"), None);
    }

    #[test]
    fn bad_hcl_file_is_skipped_but_others_are_found() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "a_good.tf",
            "resource \"aws_s3_bucket\" \"good\" {\n}\n",
        );
        write(
            tmp.path(),
            "b_bad.tf",
            "resource \"aws_s3_bucket\" \"in_bad\" {\n}\n\nresource \"aws_s3_bucket\" {{{ \"oops\n",
        );
        write(
            tmp.path(),
            "c_good.tf",
            "\nresource \"aws_s3_bucket\" \"later\" {\n}\n",
        );
        fs::write(tmp.path().join("d_binary.tf"), [0xff, 0xfe, 0x00, b'\n']).unwrap();
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(locator.locate(&[], "aws_s3_bucket", "in_bad"), None);
        assert_eq!(
            locator.locate(&[], "aws_s3_bucket", "good"),
            at(&format!("{root}/a_good.tf"), 1)
        );
        assert_eq!(
            locator.locate(&[], "aws_s3_bucket", "later"),
            at(&format!("{root}/c_good.tf"), 2)
        );
    }

    #[test]
    fn oversized_file_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let mut big = String::from("resource \"t\" \"big\" {}\n");
        while big.len() as u64 <= MAX_FILE_BYTES {
            big.push_str("# padding padding padding padding padding padding padding\n");
        }
        write(tmp.path(), "big.tf", &big);
        write(tmp.path(), "small.tf", "resource \"t\" \"small\" {}\n");
        let mut locator = Locator::new(tmp.path());
        assert_eq!(locator.locate(&[], "t", "big"), None);
        assert!(locator.locate(&[], "t", "small").is_some());
    }

    #[test]
    fn module_cycle_terminates() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            "module \"a\" {\n  source = \"./\"\n}\n\nresource \"t\" \"x\" {}\n",
        );
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        // `./` is the same directory, so each level finds the same block.
        assert_eq!(
            locator.locate(&["a", "a", "a"], "t", "x"),
            at(&format!("{root}/main.tf"), 5)
        );
        let deep = ["a"; MAX_MODULE_DEPTH + 1];
        assert_eq!(locator.locate(&deep, "t", "x"), None);
        let deepest = ["a"; MAX_MODULE_DEPTH];
        assert!(locator.locate(&deepest, "t", "x").is_some());

        // Two modules sourcing each other.
        write(
            tmp.path(),
            "p/main.tf",
            "module \"q\" {\n  source = \"../q\"\n}\n",
        );
        write(
            tmp.path(),
            "q/main.tf",
            "module \"p\" {\n  source = \"../p\"\n}\n",
        );
        write(
            tmp.path(),
            "cycle.tf",
            "module \"p\" {\n  source = \"./p\"\n}\n",
        );
        let mut locator = Locator::new(tmp.path());
        let long: Vec<&str> = ["p", "q"].iter().copied().cycle().take(40).collect();
        assert_eq!(locator.locate(&long, "t", "x"), None);
    }

    #[test]
    #[cfg(unix)] // builds a `../..` path from the cwd to the temp dir through `/`
    fn relative_and_dot_roots_are_formatted_lexically() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "infra/main.tf",
            "module \"db\" {\n  source = \"./modules/db\"\n}\nmodule \"up\" {\n  source = \"../shared\"\n}\nmodule \"win\" {\n  source = \".\\\\modules\\\\db\"\n}\n",
        );
        write(
            tmp.path(),
            "infra/modules/db/main.tf",
            "resource \"aws_db_instance\" \"this\" {}\n",
        );
        write(tmp.path(), "shared/main.tf", "resource \"t\" \"s\" {}\n");

        // Relative paths are resolved against the current directory; build them from a
        // relative root that reaches the temp dir instead of changing the process's cwd.
        let cwd = std::env::current_dir().unwrap();
        let tmp_abs = fs::canonicalize(tmp.path()).unwrap();
        let cwd_abs = fs::canonicalize(&cwd).unwrap();
        let up: PathBuf = cwd_abs.components().skip(1).map(|_| "..").collect();
        let rel_tmp = up.join(tmp_abs.strip_prefix("/").unwrap());
        let rel_tmp_str = display_path(&rel_tmp);

        let mut locator = Locator::new(rel_tmp.join("infra"));
        assert_eq!(
            locator.locate(&["db"], "aws_db_instance", "this"),
            at(&format!("{rel_tmp_str}/infra/modules/db/main.tf"), 1)
        );
        assert_eq!(
            locator.locate(&["up"], "t", "s"),
            at(&format!("{rel_tmp_str}/shared/main.tf"), 1)
        );
        assert_eq!(
            locator.locate(&["win"], "aws_db_instance", "this"),
            at(&format!("{rel_tmp_str}/infra/modules/db/main.tf"), 1)
        );
        assert!(!rel_tmp_str.starts_with('/'));

        // The formatting itself, without the file system.
        let fmt = |root: &str, rest: &str| display_path(&Path::new(root).join(rest));
        assert_eq!(
            fmt("infra", "./modules/db/main.tf"),
            "infra/modules/db/main.tf"
        );
        assert_eq!(fmt(".", "./modules/db/main.tf"), "modules/db/main.tf");
        assert_eq!(fmt("./infra/.", "main.tf"), "infra/main.tf");
        assert_eq!(fmt(".", "../shared/main.tf"), "../shared/main.tf");
        assert_eq!(fmt("a/b", "../../../x.tf"), "../x.tf");
        assert_eq!(fmt("/", "../x.tf"), "/x.tf");
        assert_eq!(fmt("/srv/infra", "mods/../main.tf"), "/srv/infra/main.tf");
        assert_eq!(normalize(Path::new("")), PathBuf::from("."));
        assert_eq!(normalize(Path::new("a/..")), PathBuf::from("."));
    }

    #[test]
    fn dot_root_gives_paths_without_prefix() {
        // `Locator::new(".")` uses the process's current directory; run it against the crate
        // directory, where no `.tf` file is, and check the formatting through `display_path`.
        let mut locator = Locator::new(".");
        assert_eq!(locator.root, PathBuf::from("."));
        assert_eq!(locator.locate(&[], "t", "x"), None);
        assert_eq!(
            display_path(&locator.root.join("modules").join("db").join("main.tf")),
            "modules/db/main.tf"
        );
    }

    #[test]
    fn dot_prefixed_root_loses_its_dots() {
        // A temp dir inside the current directory (the crate's, under `cargo test`), reached
        // through a root written as `./NAME/.`.
        let tmp = tempfile::tempdir_in(".").unwrap();
        let name = tmp.path().file_name().unwrap().to_str().unwrap().to_owned();
        write(
            tmp.path(),
            "main.tf",
            "module \"db\" {\n  source = \"./modules/db\"\n}\n",
        );
        write(
            tmp.path(),
            "modules/db/main.tf",
            "\nresource \"aws_db_instance\" \"this\" {}\n",
        );
        let mut locator = Locator::new(Path::new(".").join(&name).join("."));
        assert_eq!(
            locator.locate(&["db"], "aws_db_instance", "this"),
            at(&format!("{name}/modules/db/main.tf"), 2)
        );
    }

    #[test]
    fn line_is_right_after_heredocs_and_comments() {
        let tmp = tempfile::tempdir().unwrap();
        let text = r#"/* A block comment
resource "t" "fake_in_comment" {}
*/
# resource "t" "fake_hash" {}
// resource "t" "fake_slash" {}

locals {
  policy = <<-EOT
    resource "t" "fake_in_heredoc" {}
    {
  EOT
  doc = <<EOF
}
EOF
  s = "resource \"t\" \"fake_in_string\" {}\n"
}

   resource "t" "real" { # trailing comment
  x = 1
}
resource t  "bare_labels" {}
"#;
        write(tmp.path(), "main.tf", text);
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "t", "real"),
            at(&format!("{root}/main.tf"), 18)
        );
        for fake in [
            "fake_in_comment",
            "fake_hash",
            "fake_slash",
            "fake_in_heredoc",
            "fake_in_string",
        ] {
            assert_eq!(locator.locate(&[], "t", fake), None, "{fake}");
        }
        assert_eq!(
            locator.locate(&[], "t", "bare_labels"),
            at(&format!("{root}/main.tf"), 21)
        );
    }

    #[test]
    fn crlf_line_endings() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "main.tf",
            "# c\r\n\r\nresource \"t\" \"x\" {\r\n  a = 1\r\n}\r\n",
        );
        let root = root_str(tmp.path());
        let mut locator = Locator::new(tmp.path());
        assert_eq!(
            locator.locate(&[], "t", "x"),
            at(&format!("{root}/main.tf"), 3)
        );
    }

    #[test]
    fn directories_are_cached() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "main.tf", "resource \"t\" \"x\" {}\n");
        let mut locator = Locator::new(tmp.path());
        assert!(locator.locate(&[], "t", "x").is_some());
        fs::remove_file(tmp.path().join("main.tf")).unwrap();
        assert!(locator.locate(&[], "t", "x").is_some());
        assert_eq!(locator.dirs.len(), 1);
    }
}
