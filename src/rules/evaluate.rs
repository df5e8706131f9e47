//! Evaluation: compiled rules × resources → verdicts.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;

use super::condition::{Condition, Env, Truth, Undecided};
use super::definition::RuleDef;
use crate::model::schema::{self, Operation, ResourceType};
use crate::model::{CollectionError, Inventory, Resource, ResourceRef, Text};
use crate::report::{Finding, NotEvaluated, Report, Severity, Status};

/// How an `error` that no failed call explains begins: facts it needs are
/// unknown.
const UNDECIDED: &str = "could not decide";

/// A rule compiled with its final params and severity.
#[derive(Debug)]
pub struct Rule {
    pub def: RuleDef,
    pub severity: Severity,
    /// `when` and `assert` compiled for each of `def.resource_types`, in
    /// that order.
    conditions: Vec<Conditions>,
    /// Attributes `when` and `assert` read.
    reads: BTreeSet<&'static str>,
    /// Attributes `when` reads (`tags` for tags): when one is unreadable,
    /// whether the rule applies is unknown.
    when_reads: BTreeSet<&'static str>,
    reads_tags: bool,
    /// The attributes it reads that only a live account has
    /// (`Attribute::live_only`): it is not judged on resources only a plan knows.
    live_reads: BTreeSet<&'static str>,
    /// What `assert` requires, shown on passes.
    expectation: String,
    /// What `when` selects, for `explain`.
    applicability: Option<String>,
}

/// A rule's conditions compiled against one of its resource types. They
/// read the same attributes and say the same in words whatever the type:
/// they differ only in where each type keeps its attributes.
#[derive(Debug)]
pub(super) struct Conditions {
    pub(super) when: Option<Condition>,
    pub(super) assert: Condition,
}

impl Rule {
    /// `conditions` holds one entry per type of `def`, in its order.
    pub(super) fn new(
        def: RuleDef,
        severity: Severity,
        conditions: Vec<Conditions>,
        reads: BTreeSet<&'static str>,
        reads_tags: bool,
    ) -> Rule {
        assert_eq!(
            conditions.len(),
            def.resource_types.len(),
            "conditions compiled for each resource type of {}",
            def.id
        );
        let first = &conditions[0];
        let expectation = first.assert.describe();
        let applicability = first.when.as_ref().map(Condition::describe);
        let when_reads = conditions
            .iter()
            .filter_map(|c| c.when.as_ref())
            .flat_map(Condition::reads)
            .collect();
        let live_reads = reads
            .iter()
            .copied()
            .filter(|name| {
                def.resource_types
                    .iter()
                    .any(|t| t.attribute(name).is_some_and(|a| a.live_only))
            })
            .collect();
        Rule {
            def,
            live_reads,
            severity,
            conditions,
            when_reads,
            reads,
            reads_tags,
            expectation,
            applicability,
        }
    }

    pub fn id(&self) -> &str {
        &self.def.id
    }

    /// What the assertion requires, in words.
    pub fn expectation(&self) -> &str {
        &self.expectation
    }

    /// What the `when` clause selects, in words.
    pub fn applicability(&self) -> Option<String> {
        self.applicability.clone()
    }

    /// Why it cannot be judged on a resource only a plan knows, if it cannot:
    /// the facts it reads that only a live account has.
    pub fn needs_live_facts(&self) -> Option<String> {
        if self.live_reads.is_empty() {
            return None;
        }
        let names: Vec<&str> = self.live_reads.iter().copied().collect();
        Some(format!(
            "reads {}, which only a live account has (a plan cannot know {})",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        ))
    }

    /// The AWS calls needed to judge this rule, on every type it judges.
    pub fn operations(&self) -> BTreeSet<&'static Operation> {
        self.def
            .resource_types
            .iter()
            .flat_map(|t| t.operations_for(self.reads.iter().copied(), self.reads_tags))
            .collect()
    }

    /// The type named `resource_type` and the conditions compiled for it,
    /// if the rule judges that type.
    fn for_type(&self, resource_type: &str) -> Option<(&'static ResourceType, &Conditions)> {
        let i = self
            .def
            .resource_types
            .iter()
            .position(|t| t.name == resource_type)?;
        Some((self.def.resource_types[i], &self.conditions[i]))
    }

    /// This rule on `inventory.resources[i]`, whose attribute-level
    /// collection errors are `errors`: `None` when `when` is known to be
    /// false, else the status and, unless it passed, why.
    fn judge(
        &self,
        inventory: &Inventory,
        i: usize,
        errors: &[usize],
        now: Timestamp,
    ) -> Option<(Status, Option<String>)> {
        let resource = &inventory.resources[i];
        let (_, conditions) = self
            .for_type(resource.resource_type.name)
            .expect("a rule judges only resources of its types");
        let env = Env::new(resource, now);
        let unreadable: Vec<&CollectionError> = errors
            .iter()
            .map(|&e| &inventory.errors[e])
            .filter(|e| self.is_affected_by(e))
            .collect();
        // A rule that does not apply needs nothing, readable or not; but if
        // `when` itself could not be read, it may apply.
        if let Some(when) = &conditions.when {
            let when_unreadable = unreadable.iter().any(|e| self.when_is_affected_by(e));
            match when.truth(&env) {
                Truth::False if !when_unreadable => return None,
                Truth::Unknown if unreadable.is_empty() => {
                    return Some((
                        Status::Error,
                        Some(format!(
                            "{UNDECIDED} whether the rule applies: {}",
                            undecided_message(&when.undecided(&env), resource)
                        )),
                    ));
                }
                _ => {}
            }
        }
        if !unreadable.is_empty() {
            return Some((Status::Error, Some(unreadable_message(&unreadable))));
        }
        let assert = &conditions.assert;
        Some(match assert.truth(&env) {
            Truth::True => (Status::Pass, None),
            Truth::False => (Status::Fail, Some(assert.explain(&env))),
            Truth::Unknown => (
                Status::Error,
                Some(format!(
                    "{UNDECIDED}: {}",
                    undecided_message(&assert.undecided(&env), resource)
                )),
            ),
        })
    }

    fn is_affected_by(&self, error: &CollectionError) -> bool {
        error
            .attributes
            .iter()
            .any(|a| self.reads.contains(a.as_str()) || (self.reads_tags && a == "tags"))
    }

    fn when_is_affected_by(&self, error: &CollectionError) -> bool {
        error
            .attributes
            .iter()
            .any(|a| self.when_reads.contains(a.as_str()))
    }
}

/// One rule's outcome on one resource, before it becomes a [`Finding`].
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub rule: usize,
    pub target: Target,
    pub status: Status,
    /// Why it failed or errored; `None` on a pass. Shared: thousands of
    /// resources fail the same way.
    pub message: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// `inventory.resources[i]`.
    Resource(usize),
    /// Nothing could be listed: `inventory.errors[i]`.
    Listing(usize),
}

/// Every verdict of an audit, and the (rule, resource) pairs whose `when`
/// was known to be false.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub verdicts: Vec<Verdict>,
    pub not_applicable: Vec<(usize, usize)>,
    /// (rule, resource) pairs not judged: the rule reads facts only a live
    /// account has, and only a plan knows the resource.
    pub not_evaluated: Vec<(usize, usize)>,
}

/// The compiled rules of one audit.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    /// Positions in `rules`, by rule id: the order rules are judged in, so
    /// that verdicts come out in the report's order.
    by_id: Vec<usize>,
}

impl Engine {
    pub(super) fn new(rules: Vec<Rule>) -> Engine {
        let mut by_id: Vec<usize> = (0..rules.len()).collect();
        by_id.sort_by(|&a, &b| rules[a].def.id.cmp(&rules[b].def.id));
        Engine { rules, by_id }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every AWS call the enabled rules need; collection makes no others.
    pub fn required_operations(&self) -> BTreeSet<&'static Operation> {
        let mut ops: BTreeSet<&'static Operation> =
            self.rules.iter().flat_map(Rule::operations).collect();
        if !ops.is_empty() {
            ops.insert(&schema::ops::STS_GET_CALLER_IDENTITY);
        }
        ops
    }

    /// Judges every resource against every rule for its type.
    pub fn evaluate(&self, inventory: &Inventory, now: Timestamp) -> Vec<Verdict> {
        self.judge(inventory, now).verdicts
    }

    /// Judges every resource against every rule for its type, and says
    /// which pairs the rules' `when` ruled out. Every (rule, resource of its
    /// type) pair gets exactly one of the two; a pair that somehow got
    /// neither is reported as an `error`, never dropped.
    pub fn judge(&self, inventory: &Inventory, now: Timestamp) -> Evaluation {
        let mut by_type: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, r) in inventory.resources.iter().enumerate() {
            by_type.entry(r.resource_type.name).or_default().push(i);
        }
        let damaged = damaged_resources(inventory);
        let audit = Judging {
            inventory,
            by_type: &by_type,
            damaged: &damaged,
            now,
        };
        // Rules are judged independently, by id: split into runs of about
        // equal work, one thread each, and joined in that order, so the
        // result is what one thread would give.
        let pairs: Vec<usize> = self
            .by_id
            .iter()
            .map(|&rule| {
                self.rules[rule]
                    .def
                    .resource_types
                    .iter()
                    .map(|t| by_type.get(t.name).map_or(0, Vec::len))
                    .sum()
            })
            .collect();
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let runs = balanced_runs(&pairs, workers);
        let judge_run = |run: std::ops::Range<usize>| {
            let mut out = Evaluation::default();
            // At most one verdict per (rule, resource of its types): reserved
            // at once, a large audit's verdicts are not copied as they grow.
            out.verdicts.reserve(pairs[run.clone()].iter().sum());
            let mut texts = Interner::default();
            for &rule_index in &self.by_id[run] {
                self.judge_rule(rule_index, &audit, &mut texts, &mut out);
            }
            out
        };
        let parts: Vec<Evaluation> = if runs.len() <= 1 {
            vec![judge_run(0..self.rules.len())]
        } else {
            std::thread::scope(|scope| {
                let threads: Vec<_> = runs
                    .into_iter()
                    .map(|run| scope.spawn(|| judge_run(run)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| {
                        t.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            })
        };
        let mut evaluation = Evaluation::default();
        evaluation
            .verdicts
            .reserve(parts.iter().map(|p| p.verdicts.len()).sum());
        for part in parts {
            evaluation.verdicts.extend(part.verdicts);
            evaluation.not_applicable.extend(part.not_applicable);
            evaluation.not_evaluated.extend(part.not_evaluated);
        }
        let gaps = self.coverage_gaps(inventory, &evaluation);
        debug_assert!(
            gaps.is_empty(),
            "rule x resource pairs without a result: {gaps:?}"
        );
        for (rule, resource) in gaps {
            tracing::error!(
                "internal error: rule {} gave no result on resource {}",
                self.rules[rule].id(),
                inventory.resources[resource].id
            );
            evaluation.verdicts.push(Verdict {
                rule,
                target: Target::Resource(resource),
                status: Status::Error,
                message: Some("internal error: no verdict was reached; please report this".into()),
            });
        }
        evaluation
    }

    /// One rule on every resource of its types, and on every failed listing
    /// of them, into `out`.
    fn judge_rule(
        &self,
        rule_index: usize,
        audit: &Judging<'_>,
        texts: &mut Interner,
        out: &mut Evaluation,
    ) {
        let Judging {
            inventory,
            by_type,
            damaged,
            now,
        } = *audit;
        let rule = &self.rules[rule_index];
        let resources = rule
            .def
            .resource_types
            .iter()
            .flat_map(|t| by_type.get(t.name).map(Vec::as_slice).unwrap_or_default());
        let needs_live_facts = !rule.live_reads.is_empty();
        for &i in resources {
            if needs_live_facts && inventory.resources[i].lacks_live_facts() {
                out.not_evaluated.push((rule_index, i));
                continue;
            }
            let errors = damaged.get(&i).map(Vec::as_slice).unwrap_or_default();
            match rule.judge(inventory, i, errors, now) {
                Some((status, message)) => out.verdicts.push(Verdict {
                    rule: rule_index,
                    target: Target::Resource(i),
                    status,
                    message: message.map(|m| texts.get(&m)),
                }),
                None => out.not_applicable.push((rule_index, i)),
            }
        }
        // One result per unreadable (region, resource): a type listed by
        // several calls may fail in more than one of them.
        let mut unlisted: Vec<(usize, Vec<&CollectionError>)> = Vec::new();
        for (e, error) in inventory.errors.iter().enumerate() {
            if !error.is_listing_failure() {
                continue;
            }
            let Some((resource_type, conditions)) = rule.for_type(&error.resource_type) else {
                continue;
            };
            // A named resource that could not be read is still known by
            // its id: a `when` that rules it out by id alone holds. (Not
            // for a plan's resource whose name is made at apply: its id
            // is only its address.)
            let named = error.code != CollectionError::NAME_KNOWN_AFTER_APPLY;
            if let (Some(id), Some(when), true) = (&error.resource_id, &conditions.when, named) {
                let mut known = crate::model::Resource::new(resource_type, id.clone());
                known.region = error.region.clone();
                if let Some(account) = &error.account {
                    known.account = account.clone();
                }
                if when.excludes(&Env::new(&known, now)) {
                    continue;
                }
            }
            let same_place = unlisted.iter_mut().find(|(first, _)| {
                let first = &inventory.errors[*first];
                first.resource_type == error.resource_type
                    && first.account == error.account
                    && first.region == error.region
                    && first.resource_id == error.resource_id
            });
            match same_place {
                Some((_, errors)) => errors.push(error),
                None => unlisted.push((e, vec![error])),
            }
        }
        for (e, errors) in unlisted {
            out.verdicts.push(Verdict {
                rule: rule_index,
                target: Target::Listing(e),
                status: Status::Error,
                message: Some(unreadable_message(&errors).into()),
            });
        }
    }

    /// The (rule, resource) pairs of the rules' types that have no verdict
    /// and were not ruled out by `when`, plus any pair decided twice: the
    /// coverage invariant says there are none.
    pub fn coverage_gaps(
        &self,
        inventory: &Inventory,
        evaluation: &Evaluation,
    ) -> Vec<(usize, usize)> {
        // One counter per (rule, resource): dense, as most pairs exist.
        let n = inventory.resources.len();
        let mut seen = vec![0u8; self.rules.len() * n];
        let targets = evaluation
            .verdicts
            .iter()
            .filter_map(|v| match v.target {
                Target::Resource(i) => Some((v.rule, i)),
                Target::Listing(_) => None,
            })
            .chain(evaluation.not_applicable.iter().copied())
            .chain(evaluation.not_evaluated.iter().copied());
        for (rule, i) in targets {
            seen[rule * n + i] = seen[rule * n + i].saturating_add(1);
        }
        let mut gaps = Vec::new();
        for (rule_index, rule) in self.rules.iter().enumerate() {
            for (i, r) in inventory.resources.iter().enumerate() {
                if rule.def.applies_to(r.resource_type.name) && seen[rule_index * n + i] != 1 {
                    gaps.push((rule_index, i));
                }
            }
        }
        gaps
    }

    /// Turns verdicts into report findings. What results repeat (the
    /// rule's texts, messages, types, regions, accounts, and each resource's
    /// names) is shared between them, not copied into each.
    pub fn findings(&self, inventory: &Inventory, verdicts: &[Verdict]) -> Vec<Finding> {
        let rule_texts: Vec<[Text; 4]> = self
            .rules
            .iter()
            .map(|rule| {
                [
                    &rule.def.id,
                    &rule.def.title,
                    &rule.def.category,
                    &rule.expectation,
                ]
                .map(Text::from)
            })
            .collect();
        let mut texts = Interner::default();
        // One reference per resource or failed listing, made at its first
        // result and shared by the rest.
        let mut resources: Vec<Option<Arc<ResourceRef>>> = vec![None; inventory.resources.len()];
        let mut listings: Vec<Option<Arc<ResourceRef>>> = vec![None; inventory.errors.len()];
        verdicts
            .iter()
            .map(|v| {
                let rule = &self.rules[v.rule];
                let [id, title, category, expectation] = &rule_texts[v.rule];
                let resource = match v.target {
                    Target::Resource(i) => resources[i]
                        .get_or_insert_with(|| {
                            let r = &inventory.resources[i];
                            Arc::new(ResourceRef {
                                resource_type: texts.get(r.resource_type.name),
                                id: r.id.clone(),
                                arn: r.arn.clone(),
                                region: texts.get(&r.region),
                                account: texts.get(&r.account),
                                address: r.planned.as_ref().map(|p| p.address.clone()),
                            })
                        })
                        .clone(),
                    Target::Listing(e) => listings[e]
                        .get_or_insert_with(|| {
                            let error = &inventory.errors[e];
                            let account = error
                                .account
                                .as_deref()
                                .or(inventory.source.account.as_deref())
                                .unwrap_or_default();
                            Arc::new(ResourceRef {
                                resource_type: texts.get(&error.resource_type),
                                id: error.resource_id.clone().unwrap_or_else(|| "*".into()),
                                arn: String::new(),
                                region: texts.get(&error.region),
                                account: texts.get(account),
                                address: None,
                            })
                        })
                        .clone(),
                };
                let planned = match v.target {
                    Target::Resource(i) => inventory.resources[i].planned.is_some(),
                    Target::Listing(_) => false,
                };
                let remediation = match v.status {
                    Status::Fail => fill_placeholders(&rule.def.remediation, &resource),
                    Status::Error if planned => "Set the value in the Terraform configuration, or audit the plan over the account (`--plan` with `--live` or `--inventory`), which knows what the configuration leaves to it.".to_string(),
                    Status::Error if v.message.as_deref().is_some_and(|m| m.starts_with(UNDECIDED)) => "Collect the facts this rule reads (`backstop schema TYPE` lists them and the calls that read them; an inventory file leaves out only what was not read and writes `null` where AWS says there is none), then run the audit again.".to_string(),
                    Status::Error => "Check that the audit role may make the failed call (`backstop iam-policy` prints the policy it needs), then run the audit again.".to_string(),
                    Status::Pass | Status::Waived => String::new(),
                };
                Finding {
                    rule: id.clone(),
                    title: title.clone(),
                    severity: rule.severity,
                    category: category.clone(),
                    status: v.status,
                    message: v.message.clone().unwrap_or_else(|| expectation.clone()),
                    remediation,
                    resource,
                    location: match v.target {
                        Target::Resource(i) => inventory.resources[i].location().cloned().map(Box::new),
                        Target::Listing(_) => None,
                    },
                    waiver: None,
                }
            })
            .collect()
    }

    /// Evaluates and builds the report in one step.
    pub fn audit(&self, inventory: &Inventory, now: Timestamp) -> Report {
        let mut evaluation = tracing::debug_span!("judge").in_scope(|| self.judge(inventory, now));
        tracing::debug_span!("order")
            .in_scope(|| self.in_report_order(inventory, &mut evaluation.verdicts));
        let findings = tracing::debug_span!("findings")
            .in_scope(|| self.findings(inventory, &evaluation.verdicts));
        let not_evaluated = self.not_evaluated(inventory, &evaluation);
        // Freed before the report sorts the findings: the verdicts' messages
        // now live in them.
        drop(evaluation);
        let mut report = tracing::debug_span!("sort").in_scope(|| {
            Report::new(
                now,
                inventory.source.clone(),
                findings,
                inventory.errors.clone(),
            )
        });
        report.not_evaluated = not_evaluated;
        report
    }

    /// Puts verdicts in the report's order (rule id, then the region, id and
    /// ARN of what each judges: see [`Report::new`]), which `Report::new`
    /// then finds already sorted. [`Engine::judge`] gives them rule by rule
    /// in id order; within a rule, each target is ranked once and the
    /// verdicts sorted by rank, numbers rather than texts compared.
    fn in_report_order(&self, inventory: &Inventory, verdicts: &mut [Verdict]) {
        // Targets are numbered resources first, then failed listings.
        let resources = inventory.resources.len();
        let place = |t: usize| -> (&str, &str, &str) {
            match inventory.resources.get(t) {
                Some(r) => (&r.region, &r.id, &r.arn),
                None => {
                    let error = &inventory.errors[t - resources];
                    (
                        &error.region,
                        error.resource_id.as_deref().unwrap_or("*"),
                        "",
                    )
                }
            }
        };
        let mut targets: Vec<usize> = (0..resources + inventory.errors.len()).collect();
        targets.sort_by(|&a, &b| place(a).cmp(&place(b)));
        let mut rank = vec![0; targets.len()];
        for (position, &target) in targets.iter().enumerate() {
            rank[target] = position;
        }
        // A rule judges each target once: ranks are unique within its
        // verdicts, and an unstable sort is as good as a stable one.
        for rule in verdicts.chunk_by_mut(|a, b| a.rule == b.rule) {
            rule.sort_unstable_by_key(|v| match v.target {
                Target::Resource(i) => rank[i],
                Target::Listing(e) => rank[resources + e],
            });
        }
    }

    /// The rules not judged on some resources, once each. From a plan alone
    /// every rule that needs live facts is listed, even with no resource of
    /// its type in the plan: the reader learns what the plan audit leaves
    /// to the live one.
    fn not_evaluated(&self, inventory: &Inventory, evaluation: &Evaluation) -> Vec<NotEvaluated> {
        let mut skipped = vec![0usize; self.rules.len()];
        for &(rule, _) in &evaluation.not_evaluated {
            skipped[rule] += 1;
        }
        let plan_only = inventory.source.kind == crate::model::Source::TERRAFORM_PLAN;
        self.rules
            .iter()
            .zip(skipped)
            .filter(|(_, skipped)| plan_only || *skipped > 0)
            .filter_map(|(rule, resources)| {
                Some(NotEvaluated {
                    rule: rule.def.id.clone(),
                    reason: rule.needs_live_facts()?,
                    resources,
                })
            })
            .collect()
    }
}

/// What every rule of one audit is judged against.
struct Judging<'a> {
    inventory: &'a Inventory,
    /// Positions of the inventory's resources, by type.
    by_type: &'a HashMap<&'a str, Vec<usize>>,
    /// The attribute-level collection errors touching each resource.
    damaged: &'a HashMap<usize, Vec<usize>>,
    now: Timestamp,
}

/// For each resource, the attribute-level collection errors that touch it.
fn damaged_resources(inventory: &Inventory) -> HashMap<usize, Vec<usize>> {
    let mut damaged: HashMap<usize, Vec<usize>> = HashMap::new();
    // Indexed by (type, region) so the cost is one lookup per resource, not
    // one comparison per resource and error.
    let mut by_place: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (e, error) in inventory.errors.iter().enumerate() {
        if !error.is_listing_failure() {
            by_place
                .entry((error.resource_type.as_str(), error.region.as_str()))
                .or_default()
                .push(e);
        }
    }
    if by_place.is_empty() {
        return damaged;
    }
    for (i, r) in inventory.resources.iter().enumerate() {
        let Some(candidates) = by_place.get(&(r.resource_type.name, r.region.as_str())) else {
            continue;
        };
        for &e in candidates {
            let error = &inventory.errors[e];
            if error.resource_id.as_ref().is_none_or(|id| *id == r.id)
                && error.account.as_ref().is_none_or(|a| *a == r.account)
            {
                damaged.entry(i).or_default().push(e);
            }
        }
    }
    damaged
}

fn unreadable_message(errors: &[&CollectionError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            if e.attributes.is_empty() {
                format!("could not list {}: {e}", e.resource_type)
            } else {
                format!("could not read {}: {e}", e.attributes.join(", "))
            }
        })
        .collect();
    parts.join("; ")
}

/// `multi_az is unknown (...)`: the facts that were neither read nor
/// sent, then those read in a form their test cannot judge. A fact whose
/// source said why it is unknown (a plan: "known after apply") says so.
fn undecided_message(undecided: &Undecided, resource: &Resource) -> String {
    let mut parts = Vec::new();
    let mut facts: Vec<&String> = Vec::new();
    let mut explained: Vec<(&'static str, Vec<&String>)> = Vec::new();
    for fact in &undecided.unknown {
        let attribute = fact.split(['[', '.']).next().unwrap_or(fact);
        match resource.unknown_because(attribute) {
            Some(why) => match explained.iter_mut().find(|(w, _)| *w == why) {
                Some((_, names)) => names.push(fact),
                None => explained.push((why, vec![fact])),
            },
            None => facts.push(fact),
        }
    }
    for (why, names) in explained {
        let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        let verb = if names.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} {why}", names.join(", ")));
    }
    if !facts.is_empty() {
        let facts: Vec<&str> = facts.iter().map(|n| n.as_str()).collect();
        let (verb, noun, pronoun) = if facts.len() == 1 {
            ("is", "it was", "it")
        } else {
            ("are", "they were", "them")
        };
        parts.push(format!(
            "{} {verb} unknown ({noun} not collected, or AWS did not report {pronoun})",
            facts.join(", "),
        ));
    }
    parts.extend(undecided.unjudgeable.iter().cloned());
    if parts.is_empty() {
        return "a fact it needs is unknown".to_string();
    }
    parts.join("; ")
}

fn fill_placeholders(template: &str, resource: &ResourceRef) -> String {
    // One pass: a name that itself reads `{region}` stays as it is.
    let values = [
        ("{id}", &*resource.id),
        ("{region}", &*resource.region),
        ("{arn}", &*resource.arn),
        ("{account}", &*resource.account),
    ];
    let mut out = String::with_capacity(template.len() + resource.arn.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match values.iter().find(|(name, _)| rest.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    // Exactly as long as its text: a large audit keeps one per failure.
    out.shrink_to_fit();
    out
}

/// Texts kept once however many results repeat them: the same failed
/// assertion on thousands of resources is one allocation.
#[derive(Default)]
struct Interner(HashSet<Text>);

impl Interner {
    fn get(&mut self, text: &str) -> Text {
        match self.0.get(text) {
            Some(shared) => shared.clone(),
            None => {
                let shared = Text::from(text);
                self.0.insert(shared.clone());
                shared
            }
        }
    }
}

/// `work` (per item) cut into at most `workers` runs of consecutive items
/// with about equal sums; none empty.
fn balanced_runs(work: &[usize], workers: usize) -> Vec<std::ops::Range<usize>> {
    let total: usize = work.iter().sum();
    let share = total.div_ceil(workers.max(1)).max(1);
    let mut runs = Vec::new();
    let (mut start, mut sum) = (0, 0);
    for (i, w) in work.iter().enumerate() {
        sum += w;
        if sum >= share && runs.len() + 1 < workers {
            runs.push(start..i + 1);
            (start, sum) = (i + 1, 0);
        }
    }
    if start < work.len() {
        runs.push(start..work.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_names_are_not_expanded() {
        let resource = ResourceRef {
            resource_type: "aws.rds.db_instance".into(),
            id: "db-{region}".into(),
            arn: "arn:aws:rds:eu-west-1:111122223333:db:db-{region}".into(),
            region: "eu-west-1".into(),
            account: "111122223333".into(),
            address: None,
        };
        assert_eq!(
            fill_placeholders(
                "aws rds x --id {id} --region {region} {account} {arn} {other} {",
                &resource
            ),
            "aws rds x --id db-{region} --region eu-west-1 111122223333 \
             arn:aws:rds:eu-west-1:111122223333:db:db-{region} {other} {"
        );
    }

    #[test]
    fn runs_split_the_work_evenly_in_order() {
        assert_eq!(balanced_runs(&[5, 5, 5, 5], 2), vec![0..2, 2..4]);
        assert_eq!(balanced_runs(&[9, 1, 1, 1], 2), vec![0..1, 1..4]);
        assert_eq!(balanced_runs(&[1, 2, 3], 1), vec![0..3]);
        assert_eq!(balanced_runs(&[0, 0], 4), vec![0..2], "no work: one run");
        assert_eq!(balanced_runs(&[], 2), Vec::<std::ops::Range<usize>>::new());
        let runs = balanced_runs(&[3; 37], 2);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].end, runs[1].start);
        assert_eq!(runs[1].end, 37);
    }
}
