//! The moto AWS emulator as a test fixture.
//!
//! [`Moto::start`] runs `.venv-moto/bin/moto_server` (installed by
//! `scripts/install-moto`) on a free loopback port and waits until it
//! answers; dropping the [`Moto`] kills it. Start one per test: state is
//! isolated, tests run in parallel on separate processes (one moto process
//! serves only ~200-270 requests/s), and nothing outlives the test even when
//! it panics. Startup takes about 1.5 s.
//!
//! Clients get the endpoint and fake credentials per client (never through
//! the process environment, which parallel tests share).
//!
//! ## Where moto's answers differ from AWS's
//!
//! The collectors follow AWS's documented answers. Where moto answers
//! otherwise, the tests check what the collectors make of moto's answer,
//! or use canned answers in AWS's wire format instead ([`super::stub`], and
//! the unit tests of `src/collect/rds.rs`):
//!
//! - RDS: LatestRestorableTime is "now" even for an instance whose backups
//!   are off (AWS omits it); the collector reports no restorable time then.
//! - RDS: an unencrypted cluster snapshot has KmsKeyId
//!   `default_kms_key_id` (AWS names no key); the collector reports a key
//!   only for encrypted snapshots.
//! - RDS: a snapshot copy keeps only DBInstanceIdentifier, without
//!   SourceRegion, a source ARN (SourceDBClusterSnapshotArn for cluster
//!   snapshots) or DbiResourceId, so copies are told apart by name alone.
//! - RDS: automated backups cannot be replicated
//!   (StartDBInstanceAutomatedBackupsReplication is not implemented), so no
//!   DBInstanceAutomatedBackupsReplications appear; nor do AWS Backup
//!   snapshots.
//! - S3: ListBuckets carries no BucketRegion, so every bucket takes a
//!   GetBucketLocation.
//! - S3: GetBucketEncryption of a bucket never configured answers
//!   ServerSideEncryptionConfigurationNotFoundError (S3 has applied SSE-S3 to
//!   every bucket since 2023).
//! - With IAM enforced, a denied call of a JSON-protocol service (ECR, for
//!   one) gets a Query-style XML error the SDK cannot parse: its code is
//!   only the status, `HTTP403`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use backstop::collect::{
    CollectOptions, Collected, CopyRegions, Credentials, Plan, SdkOverrides, collect_with,
};
use backstop::model::schema::Operation;

use super::stub::Stub;

/// The account moto answers as.
pub const ACCOUNT: &str = "123456789012";

/// Fake credentials moto accepts while IAM is not enforced.
pub fn test_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "moto-test")
}

pub struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// A loopback port nobody listens on (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

fn moto_server() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-moto/bin/moto_server");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/install-moto (or scripts/test) first",
        bin.display()
    );
    bin
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// Starts moto with extra environment variables.
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let bin = moto_server();
        let port = free_port();
        let log =
            std::env::temp_dir().join(format!("backstop-moto-{}-{port}.log", std::process::id()));
        let out = File::create(&log).expect("create the moto log file");
        let err = out.try_clone().expect("clone the log handle");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut moto = Moto { child, port, log };
        moto.wait_until_ready(Duration::from_secs(10));
        moto
    }

    fn wait_until_ready(&mut self, limit: Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll moto") {
                panic!(
                    "moto_server exited ({status}) before answering:\n{}",
                    self.log_text()
                );
            }
            if self
                .http("GET", "/moto-api/", "")
                .is_some_and(|(s, _)| s == 200)
            {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "moto_server did not answer GET /moto-api/ within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A minimal HTTP/1.0 request to the moto control API: (status, body).
    fn http(&self, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.split_whitespace().nth(1)?.parse().ok()?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Some((status, body))
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on every request must be signed by a known IAM user and
    /// allowed by its policies (moto's `INITIAL_NO_AUTH_ACTION_COUNT`,
    /// switched at run time). Seed first, with [`test_credentials`].
    pub fn enforce_iam(&self) {
        let (status, body) = self
            .http("POST", "/moto-api/reset-auth", "0")
            .expect("moto answers /moto-api/reset-auth");
        assert_eq!(status, 200, "reset-auth: {body}");
    }

    /// Calls an IAM Query API action (`CreateUser`, ...) and returns the XML
    /// answer. There is no IAM SDK client among the dependencies, and while
    /// IAM is not enforced moto routes a request by the service named in its
    /// Authorization header without checking the signature.
    pub fn iam(&self, action: &str, params: &[(&str, &str)]) -> String {
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (k, v) in params {
            body.push_str(&format!("&{k}={}", url_encode(v)));
        }
        let mut stream =
            TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).expect("connect to moto");
        write!(
            stream,
            "POST / HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .expect("send to moto");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("read moto's answer");
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "IAM {action} failed: {answer}"
        );
        answer
    }

    /// Creates an IAM user with one inline policy and returns its access
    /// key. Call before [`Moto::enforce_iam`].
    pub fn iam_user(&self, name: &str, policy: &str) -> Credentials {
        self.iam("CreateUser", &[("UserName", name)]);
        self.iam(
            "PutUserPolicy",
            &[
                ("UserName", name),
                ("PolicyName", "backstop-test"),
                ("PolicyDocument", policy),
            ],
        );
        let answer = self.iam("CreateAccessKey", &[("UserName", name)]);
        let field = |tag: &str| {
            let start = answer
                .find(&format!("<{tag}>"))
                .unwrap_or_else(|| panic!("no {tag} in {answer}"))
                + tag.len()
                + 2;
            let end = start + answer[start..].find('<').expect("closing tag");
            answer[start..end].to_string()
        };
        Credentials::new(
            field("AccessKeyId"),
            field("SecretAccessKey"),
            None,
            None,
            "moto-iam-user",
        )
    }

    /// Wipes all emulated state.
    pub fn reset(&self) {
        let (status, body) = self
            .http("POST", "/moto-api/reset", "")
            .expect("moto answers /moto-api/reset");
        assert_eq!(status, 200, "reset: {body}");
    }

    /// An SDK config for `region` pointing at this moto, with the test
    /// credentials.
    pub async fn sdk_config(&self, region: &str) -> SdkConfig {
        self.sdk_config_as(region, test_credentials()).await
    }

    pub async fn sdk_config_as(&self, region: &str, credentials: Credentials) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(credentials)
            .load()
            .await
    }

    /// An S3 client (path-style, as emulators need).
    pub async fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config(region).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The test hooks that point `collect_with` at this moto, through a
    /// [`Stub`] that answers the AWS Backup listings moto lacks (as for an
    /// account without AWS Backup) and forwards everything else.
    pub fn overrides(&self) -> SdkOverrides {
        SdkOverrides {
            endpoint_url: Some(Stub::start(Some(self.endpoint()), |_| None).endpoint),
            credentials: Some(test_credentials()),
            max_attempts: Some(2),
            page_size: None,
        }
    }

    /// Options auditing `regions` with everything planned; snapshot copies
    /// are looked for in the audited regions only (moto does not implement
    /// RDS DescribeSourceRegions, which finds the others).
    pub fn options(&self, regions: &[&str]) -> CollectOptions {
        let mut plan = Plan::everything();
        plan.copy_regions = CopyRegions::Audited;
        CollectOptions {
            regions: regions.iter().map(|r| r.to_string()).collect(),
            operation_timeout: Duration::from_secs(20),
            plan,
            ..CollectOptions::default()
        }
    }

    /// Collects with `options` against this moto.
    pub async fn collect(&self, options: &CollectOptions) -> Collected {
        collect_with(options, &self.overrides())
            .await
            .unwrap_or_else(|e| panic!("collect against moto failed: {e}"))
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("moto log kept at {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// `plan` without the AWS Backup calls moto serves itself (plans,
/// selections, vaults). Once IAM is enforced, moto refuses AWS Backup's REST
/// requests (SignatureDoesNotMatch, whatever the policy), so tests that
/// enforce IAM leave those out; the listings moto lacks are answered by the
/// stand-in in front of it ([`super::stub::aws_backup_unused`]) and stay.
pub fn without_aws_backup(plan: Plan) -> Plan {
    let served_by_moto = |op: &Operation| {
        op.service == "backup"
            && (op.name.contains("BackupPlan")
                || op.name.contains("BackupSelection")
                || op.name.contains("BackupVault"))
    };
    let mut without = Plan::new(plan.operations().filter(|op| !served_by_moto(op)));
    without.copy_regions = plan.copy_regions;
    without
}
