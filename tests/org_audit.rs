//! An organisation in one run: `backstop audit --org`, `--role-arn` and
//! `accounts:` against the moto emulator with three accounts.
//!
//! moto keeps separate state per account for requests signed with
//! credentials AssumeRole gave for that account, and lists the accounts of
//! its Organizations. The three accounts: the management account (where the
//! auditor's IAM user lives) is compliant, a member is not, and a second
//! member cannot be entered, because the auditor's policy allows AssumeRole
//! only into the other two. IAM is enforced (moto's `reset-auth`), so that
//! refusal is moto's own AccessDenied.
//!
//! The audit reads log groups and ECR repositories (four rules); the other
//! rules are disabled, so that every verdict of every account is checked.

mod support;

use std::collections::BTreeMap;
use std::process::Output;

use aws_config::SdkConfig;
use backstop::collect::Credentials;
use serde_json::Value as Json;
use support::moto::{ACCOUNT, Moto, test_credentials};
use support::seed::Seed;
use support::stub::Stub;

/// The rules this audit keeps: two on log groups, two on repositories.
const RULES: [&str; 4] = [
    "logs-retention",
    "logs-kms-encryption",
    "ecr-lifecycle-policy",
    "ecr-tag-immutability",
];
const ROLE: &str = "BackstopAudit";
const USE1: &str = "us-east-1";
const EUW1: &str = "eu-west-1";

/// The emulated organisation.
struct Organisation {
    moto: Moto,
    /// The non-compliant member.
    member: String,
    /// The member whose role the auditor may not assume.
    locked: String,
    /// An organisational unit holding only `member`.
    unit: String,
    auditor: Credentials,
}

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE}")
}

/// Credentials for `account`, through AssumeRole from the test credentials
/// (while IAM is not yet enforced).
async fn enter(moto: &Moto, account: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::new(&moto.sdk_config(USE1).await);
    let assumed = sts
        .assume_role()
        .role_arn(role_arn(account))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "moto-assumed",
    )
}

/// The audit role of an account: allowed everything, trusting anyone (the
/// auditor's own policy is what decides here).
async fn audit_role(config: &SdkConfig, alias: Option<&str>) {
    let iam = aws_sdk_iam::Client::new(config);
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(ROLE)
        .policy_name("read")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    if let Some(alias) = alias {
        iam.create_account_alias()
            .account_alias(alias)
            .send()
            .await
            .unwrap();
    }
}

/// A log group (kept 90 days and encrypted, or neither) and a repository
/// (governed or not) in `region` of the account `credentials` enter.
async fn seed_account(moto: &Moto, credentials: Credentials, compliant: bool, regions: &[&str]) {
    for region in regions {
        let seed = Seed::new_as(moto, region, credentials.clone()).await;
        let group = format!("/app/{region}");
        if compliant {
            let key = seed.key().await;
            seed.logs
                .create_log_group()
                .log_group_name(&group)
                .kms_key_id(key)
                .send()
                .await
                .unwrap();
            seed.logs
                .put_retention_policy()
                .log_group_name(&group)
                .retention_in_days(90)
                .send()
                .await
                .unwrap();
        } else {
            seed.log_group(&group, None).await;
        }
        seed.repository(&format!("app-{region}"), compliant).await;
    }
}

async fn organisation() -> Organisation {
    let moto = Moto::start();
    let config = moto.sdk_config(USE1).await;
    let org = aws_sdk_organizations::Client::new(&config);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut members = Vec::new();
    for (name, email) in [
        ("staging", "staging@example.com"),
        ("sandbox", "sandbox@example.com"),
    ] {
        let created = org
            .create_account()
            .account_name(name)
            .email(email)
            .send()
            .await
            .unwrap();
        members.push(
            created
                .create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_string(),
        );
    }
    let (member, locked) = (members[0].clone(), members[1].clone());
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    let unit = org
        .create_organizational_unit()
        .parent_id(&root)
        .name("workloads")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.move_account()
        .account_id(&member)
        .source_parent_id(&root)
        .destination_parent_id(&unit)
        .send()
        .await
        .unwrap();

    audit_role(&config, Some("prod-compliant")).await;
    seed_account(&moto, test_credentials(), true, &[USE1, EUW1]).await;
    let member_config = moto.sdk_config_as(USE1, enter(&moto, &member).await).await;
    audit_role(&member_config, Some("staging-gaps")).await;
    seed_account(&moto, enter(&moto, &member).await, false, &[USE1]).await;
    // The locked account has resources too: none may show up as a verdict.
    let locked_config = moto.sdk_config_as(USE1, enter(&moto, &locked).await).await;
    audit_role(&locked_config, None).await;
    seed_account(&moto, enter(&moto, &locked).await, false, &[USE1]).await;

    let auditor = moto.iam_user(
        "auditor",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"organizations:List*","Resource":"*"}},
                {{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["{}","{}"]}}]}}"#,
            role_arn(ACCOUNT),
            role_arn(&member)
        ),
    );
    moto.enforce_iam();
    Organisation {
        moto,
        member,
        locked,
        unit,
        auditor,
    }
}

/// Runs `backstop audit ARGS` as the auditor with only [`RULES`] enabled;
/// returns the exit and the JSON report.
fn audit(org: &Organisation, args: &[&str], config_extra: &str) -> (Output, Json) {
    audit_through(&org.moto.endpoint(), org, args, config_extra)
}

/// [`audit`] through `endpoint`.
fn audit_through(
    endpoint: &str,
    org: &Organisation,
    args: &[&str],
    config_extra: &str,
) -> (Output, Json) {
    let dir = tempfile::tempdir().unwrap();
    let disabled: Vec<String> = backstop::rules::RuleSet::builtin()
        .unwrap()
        .rules()
        .iter()
        .map(|r| r.id.clone())
        .filter(|id| !RULES.contains(&id.as_str()))
        .collect();
    let config = dir.path().join("backstop.yaml");
    std::fs::write(
        &config,
        format!("disable: [{}]\n{config_extra}", disabled.join(", ")),
    )
    .unwrap();
    let json = dir.path().join("report.json");
    let out = support::isolated_backstop(dir.path(), endpoint, &org.auditor)
        .arg("audit")
        .args(args)
        .args(["--config", config.to_str().unwrap()])
        // The four rules are low and medium.
        .args(["--fail-on", "low"])
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let report = std::fs::read_to_string(&json)
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or_else(|_| {
            panic!(
                "no report; exit {:?}\nstderr:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (out, report)
}

/// (account, rule, region, resource id) → status.
fn verdicts(report: &Json) -> BTreeMap<(String, String, String, String), String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let res = &r["resource"];
            let key = [&res["account"], &r["rule"], &res["region"], &res["id"]]
                .map(|v| v.as_str().unwrap().to_string());
            (key.into(), r["status"].as_str().unwrap().to_string())
        })
        .collect()
}

/// The verdicts of the compliant management account (us-east-1 and
/// eu-west-1) and of the non-compliant member (us-east-1).
fn readable_verdicts(org: &Organisation) -> BTreeMap<(String, String, String, String), String> {
    let mut expected = BTreeMap::new();
    for (account, status, regions) in [
        (ACCOUNT, "pass", &[USE1, EUW1][..]),
        (org.member.as_str(), "fail", &[USE1][..]),
    ] {
        for region in regions {
            for rule in RULES {
                let id = if rule.starts_with("logs") {
                    format!("/app/{region}")
                } else {
                    format!("app-{region}")
                };
                let key = (
                    account.to_string(),
                    rule.to_string(),
                    region.to_string(),
                    id,
                );
                expected.insert(key, status.to_string());
            }
        }
    }
    expected
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_organisation_is_audited_account_by_account_in_every_enabled_region() {
    let org = block_on(organisation());
    let (out, report) = audit(
        &org,
        &["--org", "--role-name", ROLE, "--regions", "all"],
        "",
    );
    // The member's failures and the locked account's errors fail the gate.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let mut expected = readable_verdicts(&org);
    // The locked account: one error per rule, for all its regions at once
    // (they could not be listed), never a pass.
    for rule in RULES {
        let key = (org.locked.clone(), rule.to_string(), "*".into(), "*".into());
        expected.insert(key, "error".to_string());
    }
    assert_eq!(verdicts(&report), expected);
    for r in report["results"].as_array().unwrap() {
        if r["status"] == "error" {
            let message = r["message"].as_str().unwrap();
            assert!(
                message.contains("sts AssumeRole") && message.contains("AccessDenied"),
                "{message}"
            );
        }
    }

    let accounts = report["source"]["accounts"].as_array().unwrap();
    let by_id: BTreeMap<&str, &Json> = accounts
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a))
        .collect();
    assert_eq!(by_id.keys().copied().collect::<Vec<_>>(), {
        let mut ids = vec![ACCOUNT, org.member.as_str(), org.locked.as_str()];
        ids.sort();
        ids
    });
    assert_eq!(by_id[ACCOUNT]["alias"], "prod-compliant");
    assert_eq!(by_id[org.member.as_str()]["alias"], "staging-gaps");
    assert_eq!(by_id[org.member.as_str()]["name"], "staging");
    assert_eq!(
        by_id[org.locked.as_str()]["role_arn"],
        role_arn(&org.locked)
    );
    let why = by_id[org.locked.as_str()]["error"].as_str().unwrap();
    assert!(why.contains("AccessDenied"), "{why}");
    // Every enabled region was asked of AWS: more than the two seeded, and
    // only the commercial partition's.
    let regions: Vec<&str> = by_id[ACCOUNT]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        regions.contains(&USE1) && regions.contains(&EUW1) && regions.len() > 10,
        "{regions:?}"
    );
    assert!(
        regions
            .iter()
            .all(|r| !r.starts_with("cn-") && !r.starts_with("us-gov-"))
    );
    assert!(
        by_id[org.locked.as_str()]["regions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Errors fail the gate like any other: allowing them leaves the
    // member's failures.
    let (out, _) = audit(
        &org,
        &[
            "--org",
            "--role-name",
            ROLE,
            "--regions",
            "all",
            "--allow-errors",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn roles_accounts_and_units_choose_the_accounts() {
    let org = block_on(organisation());

    // --role-arn, one per account.
    let member_role = role_arn(&org.member);
    let locked_role = role_arn(&org.locked);
    let (out, report) = audit(
        &org,
        &[
            "--role-arn",
            &member_role,
            "--role-arn",
            &locked_role,
            "--regions",
            USE1,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut expected: BTreeMap<_, _> = readable_verdicts(&org)
        .into_iter()
        .filter(|((account, ..), _)| *account == org.member)
        .collect();
    for rule in RULES {
        let key = (
            org.locked.clone(),
            rule.to_string(),
            USE1.into(),
            "*".into(),
        );
        expected.insert(key, "error".to_string());
    }
    assert_eq!(verdicts(&report), expected);

    // `accounts:` in backstop.yaml.
    let (out, report) = audit(
        &org,
        &["--regions", USE1],
        &format!(
            "accounts:\n  ids: [\"{}\"]\n  role_name: {ROLE}\n",
            org.member
        ),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let member_only: BTreeMap<_, _> = readable_verdicts(&org)
        .into_iter()
        .filter(|((account, ..), _)| *account == org.member)
        .collect();
    assert_eq!(verdicts(&report), member_only);

    // --ou: the unit holds only the member.
    let (out, report) = audit(
        &org,
        &[
            "--org",
            "--role-name",
            ROLE,
            "--ou",
            &org.unit,
            "--regions",
            USE1,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(verdicts(&report), member_only);

    // A region a service control policy denies: its rules are errors for
    // that account and region only.
    let scp = Stub::start(Some(org.moto.endpoint()), |request| {
        (request.signing_region().as_deref() == Some(EUW1)).then(|| {
            (
                400,
                r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform this action with an explicit deny in a service control policy"}"#.to_string(),
            )
        })
    });
    let regions = format!("{USE1},{EUW1}");
    let (out, report) = audit_through(
        &scp.endpoint,
        &org,
        &["--role-arn", &member_role, "--regions", &regions],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut expected = member_only.clone();
    for rule in RULES {
        let key = (
            org.member.clone(),
            rule.to_string(),
            EUW1.into(),
            "*".into(),
        );
        expected.insert(key, "error".to_string());
    }
    assert_eq!(verdicts(&report), expected);
    let denied = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "error")
        .map(|r| r["message"].as_str().unwrap())
        .collect::<Vec<_>>();
    assert!(
        denied
            .iter()
            .all(|m| m.contains("AccessDeniedException") && m.contains("service control policy")),
        "{denied:?}"
    );
}

/// A multi-thread runtime for seeding through the SDK.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
