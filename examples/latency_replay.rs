//! A loopback stand-in for AWS at organisation scale, for `bench/latency`.
//!
//! Why it exists: moto serves a few hundred requests per second on two
//! cores whoever asks, so against it an audit is bound by the emulator and
//! concurrency cannot show. AWS answers each call in 30–100 ms and throttles
//! each account and region separately; what concurrency buys is overlapping
//! that latency without meeting the throttles. This server answers from
//! memory, after a fixed latency, with AWS's throttling errors above a rate,
//! for as many accounts as asked.
//!
//! Two modes:
//!
//! - `record --upstream MOTO --out FILE`: a proxy in front of moto that
//!   forwards every request and keeps each answer under the request's
//!   normalised key ([`request_key`]: service, region, method, path, sorted
//!   query, `X-Amz-Target`, body with form fields sorted, the template
//!   account id replaced by a placeholder). The few calls moto 5.1.22 does
//!   not implement are answered as AWS answers an account without such
//!   things ([`stand_in`]), so that the replayed audit meets no error AWS
//!   would not give. `POST /_save` writes the recording and ends the proxy.
//! - `serve RECORDING`: stands in for an organisation: a management account
//!   (the template account's id) and `--accounts` members. It answers the
//!   control plane itself ([`Server::control_plane`]: STS GetCallerIdentity
//!   and AssumeRole, Organizations ListAccounts, IAM ListAccountAliases,
//!   EC2 DescribeRegions) and replays every other request from the
//!   recording with the caller's account substituted both ways. Every
//!   answer waits `--latency-ms`; above a token bucket per (account,
//!   region, service) a request gets the service's throttling error; a
//!   request not in the recording gets HTTP 500 and counts as a miss.
//!   `GET /_stats` gives the counters as JSON, `POST /_reset` zeroes them
//!   and refills the buckets.
//!
//! The account of a request is read from its SigV4 access key id: the
//! AssumeRole answer hands out `ASIA` + the member's 12 digits + `BKSP`;
//! any other key is the management account's.
//!
//! Blocking std I/O with a thread per connection, as in the tests' proxy:
//! one request at a time per HTTP/1.1 connection, so a connection's thread
//! can simply sleep out the latency.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};

#[path = "../tests/support/http1.rs"]
mod http1;
use http1::{Request, read_body, read_headers, read_request, read_status_line, write_request};

#[derive(Parser)]
#[command(about = "Record AWS answers from moto; replay them for an organisation, with latency")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Forward to moto and record every answer; `POST /_save` writes the file.
    Record {
        /// moto's base URL (`http://127.0.0.1:PORT`).
        #[arg(long)]
        upstream: String,
        /// Where `POST /_save` writes the recording.
        #[arg(long)]
        out: PathBuf,
        /// The loopback port to listen on.
        #[arg(long)]
        port: u16,
        /// The account moto answers for (its default).
        #[arg(long, default_value = DEFAULT_ACCOUNT)]
        account: String,
        /// The regions RDS DescribeSourceRegions is answered with (moto does
        /// not implement it): the audited ones.
        #[arg(long, value_delimiter = ',', required = true)]
        regions: Vec<String>,
    },
    /// Serve a recording as an organisation, with latency and throttling.
    Serve {
        recording: PathBuf,
        /// The loopback port to listen on.
        #[arg(long)]
        port: u16,
        /// Member accounts besides the management account.
        #[arg(long, default_value_t = 50)]
        accounts: u32,
        /// Added to every answer.
        #[arg(long, default_value_t = 30)]
        latency_ms: u64,
        /// Requests per second refilled into each (account, region, service)
        /// bucket. Default: EC2's documented bucket for non-mutating
        /// (Describe*) actions, 20 per second, 100 burst.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// The bucket's size: requests that may come at once.
        #[arg(long, default_value_t = 100.0)]
        burst: f64,
        /// A service's own bucket, `SERVICE=RATE/BURST` (SERVICE as in the
        /// SigV4 scope: `logs`, `s3`, ...); repeatable. S3's default is its
        /// documented rate of GET/HEAD requests per prefix, 5,500 per
        /// second: a bucket's settings are GETs on the bucket.
        #[arg(long = "rate-for", value_name = "SERVICE=RATE/BURST", value_parser = parse_rate_for)]
        rate_for: Vec<(String, Bucket)>,
    },
}

const DEFAULT_ACCOUNT: &str = "123456789012";
/// S3's documented request rate: 5,500 GET/HEAD requests per second per
/// prefix.
const S3_BUCKET: Bucket = Bucket {
    rate: 5500.0,
    burst: 5500.0,
};
/// Stands for the caller's account in recorded keys and answers.
const PLACEHOLDER: &str = "{{ACCOUNT}}";
/// Member account ids: 100000000001, 100000000002, ...
const FIRST_MEMBER: u64 = 100_000_000_001;
/// Organizations ListAccounts page size (AWS's maximum).
const ACCOUNTS_PER_PAGE: usize = 20;
/// A region every account has, but not enabled: DescribeRegions with
/// `AllRegions=true` lists it as `not-opted-in`.
const DISABLED_REGION: &str = "af-south-1";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().mode {
        Mode::Record {
            upstream,
            out,
            port,
            account,
            regions,
        } => record(&upstream, &out, port, account, regions),
        Mode::Serve {
            recording,
            port,
            accounts,
            latency_ms,
            rate,
            burst,
            rate_for,
        } => {
            let recording: Recording = serde_json::from_str(&std::fs::read_to_string(&recording)?)?;
            let limits = Limits {
                latency: Duration::from_millis(latency_ms),
                default: Bucket::new(rate, burst),
                per_service: [("s3".to_string(), S3_BUCKET)]
                    .into_iter()
                    .chain(rate_for)
                    .collect(),
            };
            let server = Arc::new(Server::new(recording, accounts, limits));
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
            eprintln!(
                "latency_replay: serving {} answers for {} accounts at http://{}",
                server.recording.answers.len(),
                server.org.active().len(),
                listener.local_addr()?
            );
            for stream in listener.incoming().flatten() {
                let server = Arc::clone(&server);
                std::thread::spawn(move || serve_connection(stream, &server));
            }
            Ok(())
        }
    }
}

fn parse_rate_for(text: &str) -> Result<(String, Bucket), String> {
    let parsed = text.split_once('=').and_then(|(service, limit)| {
        let (rate, burst) = limit.split_once('/')?;
        Some((
            service.to_string(),
            Bucket::new(rate.parse().ok()?, burst.parse().ok()?),
        ))
    });
    parsed.ok_or_else(|| format!("expected SERVICE=RATE/BURST, got {text:?}"))
}

// ---------------------------------------------------------------------------
// HTTP/1.1, just enough for the SDK

impl Request {
    fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }

    /// The fields of a form body (the query protocol's parameters).
    fn form(&self) -> BTreeMap<String, String> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (url_decode(k), url_decode(v)))
            .collect()
    }

    fn is_form(&self) -> bool {
        self.header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    }
}

/// An answer as recorded and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Answer {
    status: u16,
    /// The headers that matter to the SDK (content type, error type, S3's
    /// bucket region); framing and dates are left out.
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn new(status: u16, content_type: &str, body: String) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body,
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn write(&self, out: &mut impl Write, is_head: bool) -> std::io::Result<()> {
        let mut text = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        if !is_head {
            text.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        text.push_str("\r\n");
        if !is_head {
            text.push_str(&self.body);
        }
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Answers the requests of one connection in turn until it closes.
fn serve_connection(stream: TcpStream, server: &Server) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader, &mut writer) {
        let answer = server.handle(&request);
        if answer.write(&mut writer, request.method == "HEAD").is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------
// What a request is

/// The SigV4 credential scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    access_key: String,
    region: String,
    service: String,
}

fn scope_of(request: &Request) -> Option<Scope> {
    let credential = request
        .header("authorization")?
        .split("Credential=")
        .nth(1)?
        .split([',', ' '])
        .next()?;
    match credential.split('/').collect::<Vec<_>>()[..] {
        [access_key, _, region, service, ..] => Some(Scope {
            access_key: access_key.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        }),
        _ => None,
    }
}

/// The key a request's answer is recorded under: what the answer depends on
/// (service, region, method, path, query, `X-Amz-Target`, body) with
/// `account` replaced by [`PLACEHOLDER`], and with what only varies from
/// one run to the next left out (signatures, dates, invocation ids). Query
/// parameters and form fields are sorted: their order carries no meaning
/// (list members are numbered in their names).
fn request_key(request: &Request, scope: &Scope, account: &str) -> String {
    let (path, query) = request.path_and_query();
    let mut query: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    query.sort_unstable();
    let body = String::from_utf8_lossy(&request.body);
    let body = if request.is_form() {
        let mut fields: Vec<&str> = body.split('&').collect();
        fields.sort_unstable();
        fields.join("&")
    } else {
        body.into_owned()
    };
    let key = format!(
        "{} {} {} {}?{}\n{}\n{}",
        scope.service,
        scope.region,
        request.method,
        path,
        query.join("&"),
        request.header("x-amz-target").unwrap_or(""),
        body
    );
    key.replace(account, PLACEHOLDER)
}

/// The wire protocol of a service's answers, which shapes its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson (`X-Amz-Target`) and REST-JSON (AWS Backup): the error code
    /// in `x-amzn-ErrorType` and `__type`.
    Json,
    /// awsQuery (RDS, STS, SNS, IAM): `<ErrorResponse><Error>`.
    Query,
    /// EC2's own query dialect: `<Response><Errors><Error>`.
    Ec2,
    /// S3's REST-XML: `<Error>`.
    S3,
}

fn protocol(request: &Request, service: &str) -> Protocol {
    match service {
        "s3" => Protocol::S3,
        "ec2" => Protocol::Ec2,
        "backup" => Protocol::Json,
        _ if request.header("x-amz-target").is_some() => Protocol::Json,
        _ => Protocol::Query,
    }
}

/// An error answer in the protocol's shape.
fn error_answer(protocol: Protocol, status: u16, code: &str, message: &str) -> Answer {
    let request_id = "00000000-0000-4000-8000-000000000000";
    match protocol {
        Protocol::Json => Answer::new(
            status,
            "application/x-amz-json-1.1",
            serde_json::json!({ "__type": code, "message": message }).to_string(),
        )
        .with_header("x-amzn-ErrorType", code)
        .with_header("x-amzn-RequestId", request_id),
        Protocol::Query => Answer::new(
            status,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code><Message>{message}\
                 </Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if status >= 500 { "Receiver" } else { "Sender" }
            ),
        ),
        Protocol::Ec2 => Answer::new(
            status,
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>\
                 </Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ),
        ),
        Protocol::S3 => Answer::new(
            status,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
            ),
        ),
    }
}

/// The service's own throttling error, as AWS sends it. Every code here is
/// one the SDK's retry classifier treats as throttling
/// (`aws_runtime::retries::classifiers::THROTTLING_ERRORS`): retried with
/// backoff, and counted against the retry quota.
fn throttling_answer(protocol: Protocol, service: &str) -> Answer {
    match (protocol, service) {
        (Protocol::S3, _) => error_answer(
            protocol,
            503,
            "SlowDown",
            "Please reduce your request rate.",
        ),
        (Protocol::Ec2, _) => error_answer(
            protocol,
            503,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
        (Protocol::Json, "organizations") => error_answer(
            protocol,
            400,
            "TooManyRequestsException",
            "You have sent too many requests in too short a period of time.",
        ),
        (Protocol::Json, _) => error_answer(protocol, 400, "ThrottlingException", "Rate exceeded"),
        (Protocol::Query, _) => error_answer(protocol, 400, "Throttling", "Rate exceeded"),
    }
}

// ---------------------------------------------------------------------------
// Recording

/// What `record` saves and `serve` loads.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Recording {
    /// The regions the recorded requests were signed for.
    regions: Vec<String>,
    /// Answers by [`request_key`], the account in both as [`PLACEHOLDER`].
    answers: BTreeMap<String, Answer>,
}

impl Recording {
    /// Keeps an answer; of several to one key, the first success (a call
    /// that failed once and then succeeded is replayed as succeeding).
    fn keep(&mut self, key: String, region: &str, answer: Answer) {
        if !self.regions.iter().any(|r| r == region) {
            self.regions.push(region.to_string());
            self.regions.sort();
        }
        match self.answers.get(&key) {
            Some(kept) if kept.is_success() || !answer.is_success() => {}
            _ => {
                self.answers.insert(key, answer);
            }
        }
    }
}

fn record(
    upstream: &str,
    out: &Path,
    port: u16,
    account: String,
    regions: Vec<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let upstream = upstream
        .strip_prefix("http://")
        .ok_or("--upstream must be an http:// URL")?
        .trim_end_matches('/')
        .to_string();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    eprintln!(
        "latency_replay: recording answers of {upstream} at http://{}",
        listener.local_addr()?
    );
    let recording = Arc::new(Mutex::new(Recording::default()));
    let (account, regions) = (Arc::new(account), Arc::new(regions));
    for stream in listener.incoming().flatten() {
        let (recording, account, regions) = (
            Arc::clone(&recording),
            Arc::clone(&account),
            Arc::clone(&regions),
        );
        let (upstream, out) = (upstream.clone(), out.to_path_buf());
        std::thread::spawn(move || {
            let Ok(mut writer) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            while let Ok(Some(request)) = read_request(&mut reader, &mut writer) {
                if request.target == "/_save" {
                    let saved = save(&recording.lock().unwrap(), &out);
                    let answer = match &saved {
                        Ok(count) => Answer::new(200, "text/plain", format!("{count} answers\n")),
                        Err(e) => Answer::new(500, "text/plain", format!("{e}\n")),
                    };
                    let _ = answer.write(&mut writer, false);
                    std::process::exit(i32::from(saved.is_err()));
                }
                let answer = match forward(&upstream, &request) {
                    Ok(answer) => answer,
                    Err(e) => Answer::new(502, "text/plain", format!("upstream: {e}")),
                };
                let answer = match scope_of(&request) {
                    Some(scope) => {
                        let answer =
                            stand_in(&request, &scope.service, &answer, &regions).unwrap_or(answer);
                        let key = request_key(&request, &scope, &account);
                        let kept = Answer {
                            status: answer.status,
                            headers: answer
                                .headers
                                .iter()
                                .map(|(k, v)| (k.clone(), v.replace(account.as_str(), PLACEHOLDER)))
                                .collect(),
                            body: answer.body.replace(account.as_str(), PLACEHOLDER),
                        };
                        recording.lock().unwrap().keep(key, &scope.region, kept);
                        answer
                    }
                    None => answer,
                };
                if answer.write(&mut writer, request.method == "HEAD").is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

fn save(recording: &Recording, out: &Path) -> std::io::Result<usize> {
    std::fs::write(out, serde_json::to_vec(recording)?)?;
    Ok(recording.answers.len())
}

/// Response headers the recording keeps: not the framing (each answer is
/// framed anew), not what changes from one answer to the next.
fn kept_header(name: &str) -> bool {
    ![
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "date",
        "server",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Sends the request to moto on a fresh connection and reads its answer.
fn forward(upstream: &str, request: &Request) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect(upstream)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    write_request(&mut conn, request)?;

    let mut reader = BufReader::new(conn);
    let (status, _) = read_status_line(&mut reader)?;
    let mut headers = read_headers(&mut reader)?;
    let body = if request.method == "HEAD" || status == 204 || status == 304 {
        Vec::new()
    } else {
        read_body(&mut reader, &headers, false)?
    };
    headers.retain(|(k, _)| kept_header(k));
    let body = String::from_utf8(body)
        .map_err(|_| std::io::Error::other("a binary answer: the recording keeps text only"))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// AWS's answer, for an account that has none of them, to the calls moto
/// 5.1.22 fails (HTTP 500 or 404): RDS DescribeSourceRegions (answered
/// with the audited regions), Logs DescribeAccountPolicies, AWS Backup
/// ListBackupSelections, ListProtectedResources and ListCopyJobs. `None`
/// for every other request, and when moto did answer.
fn stand_in(request: &Request, service: &str, moto: &Answer, regions: &[String]) -> Option<Answer> {
    if moto.is_success() {
        return None;
    }
    let json = |body: &str| Some(Answer::new(200, "application/json", body.to_string()));
    let (path, _) = request.path_and_query();
    let path = path.trim_end_matches('/');
    match service {
        "logs"
            if request.header("x-amz-target") == Some("Logs_20140328.DescribeAccountPolicies") =>
        {
            json(r#"{"accountPolicies":[]}"#)
        }
        "rds"
            if request.form().get("Action").map(String::as_str)
                == Some("DescribeSourceRegions") =>
        {
            let listed: String = regions
                .iter()
                .map(|r| {
                    format!(
                        "<SourceRegion><RegionName>{r}</RegionName><Endpoint>\
                         https://rds.{r}.amazonaws.com</Endpoint><Status>available</Status>\
                         </SourceRegion>"
                    )
                })
                .collect();
            Some(Answer::new(
                200,
                "text/xml",
                format!(
                    "<DescribeSourceRegionsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\
                     <DescribeSourceRegionsResult><SourceRegions>{listed}</SourceRegions>\
                     </DescribeSourceRegionsResult><ResponseMetadata><RequestId>0</RequestId>\
                     </ResponseMetadata></DescribeSourceRegionsResponse>"
                ),
            ))
        }
        "backup"
            if request.method == "GET"
                && path.starts_with("/backup/plans/")
                && path.ends_with("/selections") =>
        {
            json(r#"{"BackupSelectionsList":[]}"#)
        }
        "backup" if request.method == "GET" && path == "/resources" => json(r#"{"Results":[]}"#),
        "backup" if request.method == "GET" && path == "/copy-jobs" => json(r#"{"CopyJobs":[]}"#),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Serving

/// A token bucket: `rate` requests per second refilled, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Bucket {
        Bucket { rate, burst }
    }
}

struct Limits {
    latency: Duration,
    default: Bucket,
    per_service: HashMap<String, Bucket>,
}

/// A bucket's tokens at a time.
struct Level {
    tokens: f64,
    at: Instant,
}

/// The accounts of the organisation.
struct Org {
    management: String,
    members: Vec<String>,
    /// Listed by ListAccounts as SUSPENDED; its role cannot be assumed.
    suspended: String,
}

impl Org {
    fn new(management: String, members: u32) -> Org {
        let id = |n: u64| format!("{:012}", FIRST_MEMBER + n);
        Org {
            management,
            members: (0..u64::from(members)).map(id).collect(),
            suspended: id(u64::from(members)),
        }
    }

    fn active(&self) -> Vec<&str> {
        std::iter::once(self.management.as_str())
            .chain(self.members.iter().map(String::as_str))
            .collect()
    }

    fn is_active(&self, account: &str) -> bool {
        account == self.management || self.members.iter().any(|m| m == account)
    }

    /// The account whose credentials signed the request: a member's
    /// `ASIA<12 digits>BKSP` key from AssumeRole, else the management
    /// account's.
    fn account_of(&self, access_key: &str) -> String {
        access_key
            .strip_prefix("ASIA")
            .and_then(|rest| rest.strip_suffix("BKSP"))
            .filter(|id| self.is_active(id))
            .map_or_else(|| self.management.clone(), str::to_string)
    }
}

/// The counters `GET /_stats` returns.
#[derive(Debug, Default, Clone, Serialize)]
struct Stats {
    /// AWS requests answered (replayed, control plane, throttled, missed).
    requests: u64,
    /// Answered by the control plane (STS, Organizations, IAM, EC2).
    control_plane: u64,
    throttled: u64,
    /// Requests not in the recording (answered HTTP 500).
    misses: u64,
    services: BTreeMap<String, ServiceStats>,
}

#[derive(Debug, Default, Clone, Serialize)]
struct ServiceStats {
    requests: u64,
    throttled: u64,
    misses: u64,
}

/// How a request was answered, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Replayed,
    ControlPlane,
    Throttled,
    Miss,
}

struct Server {
    recording: Recording,
    org: Org,
    limits: Limits,
    levels: Mutex<HashMap<(String, String, String), Level>>,
    stats: Mutex<Stats>,
    /// The role each member was entered with (for GetCallerIdentity).
    roles: Mutex<HashMap<String, String>>,
}

impl Server {
    fn new(recording: Recording, members: u32, limits: Limits) -> Server {
        Server {
            recording,
            org: Org::new(DEFAULT_ACCOUNT.to_string(), members),
            limits,
            levels: Mutex::default(),
            stats: Mutex::default(),
            roles: Mutex::default(),
        }
    }

    /// The answer to a request, after the latency (AWS takes it whatever
    /// the answer, a throttling error included). The counters and
    /// `POST /_reset` answer at once.
    fn handle(&self, request: &Request) -> Answer {
        match (request.method.as_str(), request.target.as_str()) {
            ("GET", "/_stats") => {
                let stats = self.stats.lock().unwrap().clone();
                return Answer::new(
                    200,
                    "application/json",
                    serde_json::to_string(&stats).unwrap_or_default(),
                );
            }
            ("POST", "/_reset") => {
                *self.stats.lock().unwrap() = Stats::default();
                self.levels.lock().unwrap().clear();
                return Answer::new(200, "application/json", "{}".to_string());
            }
            _ => {}
        }
        let started = Instant::now();
        let answer = self.respond(request, started);
        std::thread::sleep(self.limits.latency.saturating_sub(started.elapsed()));
        answer
    }

    /// The answer and its counting, without the latency.
    fn respond(&self, request: &Request, now: Instant) -> Answer {
        let Some(scope) = scope_of(request) else {
            return Answer::new(400, "text/plain", "unsigned request\n".to_string());
        };
        let account = self.org.account_of(&scope.access_key);
        let protocol = protocol(request, &scope.service);
        let (outcome, answer) = if !self.take_token(&account, &scope, now) {
            (
                Outcome::Throttled,
                throttling_answer(protocol, &scope.service),
            )
        } else if let Some(answer) = self.control_plane(request, &scope, &account) {
            (Outcome::ControlPlane, answer)
        } else {
            let key = request_key(request, &scope, &account);
            match self.recording.answers.get(&key) {
                Some(recorded) => (Outcome::Replayed, substitute(recorded, &account)),
                None => {
                    eprintln!("latency_replay: not recorded: {}", key.replace('\n', " | "));
                    let answer =
                        error_answer(protocol, 500, "InternalFailure", "not in the recording");
                    (Outcome::Miss, answer)
                }
            }
        };
        self.count(&scope.service, outcome);
        answer
    }

    fn take_token(&self, account: &str, scope: &Scope, now: Instant) -> bool {
        let bucket = self
            .limits
            .per_service
            .get(&scope.service)
            .unwrap_or(&self.limits.default);
        let mut levels = self.levels.lock().unwrap();
        let key = (
            account.to_string(),
            scope.region.clone(),
            scope.service.clone(),
        );
        let level = levels.entry(key).or_insert(Level {
            tokens: bucket.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(level.at).as_secs_f64() * bucket.rate;
        level.tokens = (level.tokens + refill).min(bucket.burst);
        level.at = level.at.max(now);
        if level.tokens >= 1.0 {
            level.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn count(&self, service: &str, outcome: Outcome) {
        let mut stats = self.stats.lock().unwrap();
        stats.requests += 1;
        let per = stats.services.entry(service.to_string()).or_default();
        per.requests += 1;
        match outcome {
            Outcome::Replayed => {}
            Outcome::ControlPlane => stats.control_plane += 1,
            Outcome::Throttled => {
                per.throttled += 1;
                stats.throttled += 1;
            }
            Outcome::Miss => {
                per.misses += 1;
                stats.misses += 1;
            }
        }
    }

    /// The calls that make the organisation: who the caller is, its
    /// accounts, entering one, its alias and its regions. `None` for the
    /// calls replayed from the recording.
    fn control_plane(&self, request: &Request, scope: &Scope, account: &str) -> Option<Answer> {
        match scope.service.as_str() {
            "sts" => {
                let form = request.form();
                match form.get("Action").map(String::as_str)? {
                    "GetCallerIdentity" => Some(self.caller_identity(account)),
                    "AssumeRole" => Some(self.assume_role(&form)),
                    _ => None,
                }
            }
            "organizations" => match request.header("x-amz-target")? {
                "AWSOrganizationsV20161128.ListAccounts"
                | "AWSOrganizationsV20161128.ListAccountsForParent" => {
                    Some(self.list_accounts(request))
                }
                _ => None,
            },
            "iam"
                if request.form().get("Action").map(String::as_str)
                    == Some("ListAccountAliases") =>
            {
                Some(query_answer(
                    "ListAccountAliases",
                    "https://iam.amazonaws.com/doc/2010-05-08/",
                    &format!(
                        "<IsTruncated>false</IsTruncated><AccountAliases>\
                         <member>bench-{account}</member></AccountAliases>"
                    ),
                ))
            }
            "ec2"
                if request.form().get("Action").map(String::as_str) == Some("DescribeRegions") =>
            {
                Some(self.describe_regions(request))
            }
            _ => None,
        }
    }

    fn caller_identity(&self, account: &str) -> Answer {
        let arn = match self.roles.lock().unwrap().get(account) {
            Some(role) => format!("arn:aws:sts::{account}:assumed-role/{role}/backstop"),
            None => format!("arn:aws:iam::{account}:user/bench"),
        };
        query_answer(
            "GetCallerIdentity",
            "https://sts.amazonaws.com/doc/2011-06-15/",
            &format!(
                "<Arn>{arn}</Arn><UserId>AIDABENCH{account}</UserId><Account>{account}</Account>"
            ),
        )
    }

    fn assume_role(&self, form: &BTreeMap<String, String>) -> Answer {
        let arn = form.get("RoleArn").map_or("", String::as_str);
        let session = form.get("RoleSessionName").map_or("", String::as_str);
        let target = arn
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.split_once(":role/"))
            .filter(|(account, _)| self.org.is_active(account));
        let Some((account, role)) = target else {
            return error_answer(
                Protocol::Query,
                403,
                "AccessDenied",
                &format!(
                    "User: arn:aws:iam::{}:user/bench is not authorized to perform: sts:AssumeRole on resource: {arn}",
                    self.org.management
                ),
            );
        };
        self.roles
            .lock()
            .unwrap()
            .insert(account.to_string(), role.to_string());
        let expiration = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        query_answer(
            "AssumeRole",
            "https://sts.amazonaws.com/doc/2011-06-15/",
            &format!(
                "<Credentials><AccessKeyId>ASIA{account}BKSP</AccessKeyId>\
                 <SecretAccessKey>bench-secret-{account}</SecretAccessKey>\
                 <SessionToken>bench-session-{account}</SessionToken>\
                 <Expiration>{expiration}</Expiration></Credentials>\
                 <AssumedRoleUser><AssumedRoleId>AROABENCH{account}:{session}</AssumedRoleId>\
                 <Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn></AssumedRoleUser>"
            ),
        )
    }

    /// Every account, the management account first and the suspended one
    /// last, [`ACCOUNTS_PER_PAGE`] a page; `NextToken` is the next page's
    /// first index.
    fn list_accounts(&self, request: &Request) -> Answer {
        let asked: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let start: usize = asked["NextToken"]
            .as_str()
            .and_then(|t| t.strip_prefix("page-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let all: Vec<(&str, &str)> = self
            .org
            .active()
            .into_iter()
            .map(|id| (id, "ACTIVE"))
            .chain([(self.org.suspended.as_str(), "SUSPENDED")])
            .collect();
        let management = &self.org.management;
        let page: Vec<serde_json::Value> = all
            .iter()
            .skip(start)
            .take(ACCOUNTS_PER_PAGE)
            .map(|(id, status)| {
                serde_json::json!({
                    "Id": id,
                    "Arn": format!("arn:aws:organizations::{management}:account/o-bench/{id}"),
                    "Email": format!("aws+{id}@example.com"),
                    "Name": format!("bench-{id}"),
                    "Status": status,
                    "JoinedMethod": "CREATED",
                    "JoinedTimestamp": 1.7e9,
                })
            })
            .collect();
        let mut body = serde_json::json!({ "Accounts": page });
        if start + ACCOUNTS_PER_PAGE < all.len() {
            body["NextToken"] = format!("page-{}", start + ACCOUNTS_PER_PAGE).into();
        }
        Answer::new(200, "application/x-amz-json-1.1", body.to_string())
    }

    /// The recorded regions, enabled; with `AllRegions=true` (as AWS) also
    /// one the account has not opted in to.
    fn describe_regions(&self, request: &Request) -> Answer {
        let all = request.form().get("AllRegions").map(String::as_str) == Some("true");
        let enabled = self
            .recording
            .regions
            .iter()
            .map(|r| (r.as_str(), "opt-in-not-required"));
        let disabled = all.then_some((DISABLED_REGION, "not-opted-in"));
        let items: String = enabled
            .chain(disabled)
            .map(|(region, status)| {
                format!(
                    "<item><regionName>{region}</regionName>\
                     <regionEndpoint>ec2.{region}.amazonaws.com</regionEndpoint>\
                     <optInStatus>{status}</optInStatus></item>"
                )
            })
            .collect();
        Answer::new(
            200,
            "text/xml",
            format!(
                "<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
                 <requestId>0</requestId><regionInfo>{items}</regionInfo></DescribeRegionsResponse>"
            ),
        )
    }
}

/// A query-protocol success: `<{action}Response><{action}Result>`.
fn query_answer(action: &str, namespace: &str, result: &str) -> Answer {
    Answer::new(
        200,
        "text/xml",
        format!(
            "<{action}Response xmlns=\"{namespace}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

/// A recorded answer for `account`.
fn substitute(recorded: &Answer, account: &str) -> Answer {
    Answer {
        status: recorded.status,
        headers: recorded
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.replace(PLACEHOLDER, account)))
            .collect(),
        body: recorded.body.replace(PLACEHOLDER, account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
    use http1::header;

    const MEMBER: &str = "100000000001";

    fn signed(access_key: &str, region: &str, service: &str) -> Vec<(String, String)> {
        vec![(
            "Authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            ),
        )]
    }

    /// A query-protocol call (a form body).
    fn form_call(access_key: &str, region: &str, service: &str, body: &str) -> Request {
        let mut headers = signed(access_key, region, service);
        headers.push((
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ));
        Request {
            method: "POST".to_string(),
            target: "/".to_string(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    /// An RDS call with its form fields in the given order.
    fn rds_call(access_key: &str, fields: &[&str]) -> Request {
        form_call(access_key, "eu-west-1", "rds", &fields.join("&"))
    }

    fn ecr_call(access_key: &str) -> Request {
        let mut headers = signed(access_key, "us-east-1", "ecr");
        headers.push((
            "X-Amz-Target".to_string(),
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories".to_string(),
        ));
        Request {
            method: "POST".to_string(),
            target: "/".to_string(),
            headers,
            body: b"{}".to_vec(),
        }
    }

    /// Organizations ListAccounts by the management account.
    fn list_accounts_call(body: &str) -> Request {
        let mut headers = signed("testing", "us-east-1", "organizations");
        headers.push((
            "X-Amz-Target".to_string(),
            "AWSOrganizationsV20161128.ListAccounts".to_string(),
        ));
        Request {
            method: "POST".to_string(),
            target: "/".to_string(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn s3_call(access_key: &str) -> Request {
        Request {
            method: "GET".to_string(),
            target: "/bucket?versioning".to_string(),
            headers: signed(access_key, "us-east-1", "s3"),
            body: Vec::new(),
        }
    }

    /// A server whose recording holds `recorded`, answered for the template
    /// account, and no latency.
    fn server(recorded: &[(&Request, Answer)], bucket: Bucket) -> Server {
        let mut recording = Recording::default();
        for (request, answer) in recorded {
            let scope = scope_of(request).unwrap();
            let kept = substitute_back(answer);
            recording.keep(
                request_key(request, &scope, DEFAULT_ACCOUNT),
                &scope.region,
                kept,
            );
        }
        let limits = Limits {
            latency: Duration::ZERO,
            default: bucket,
            per_service: HashMap::new(),
        };
        Server::new(recording, 3, limits)
    }

    /// What `record` keeps of an answer moto gave the template account.
    fn substitute_back(answer: &Answer) -> Answer {
        Answer {
            body: answer.body.replace(DEFAULT_ACCOUNT, PLACEHOLDER),
            ..answer.clone()
        }
    }

    fn member_key(account: &str) -> String {
        format!("ASIA{account}BKSP")
    }

    fn error_code(answer: &Answer) -> String {
        if let Some(code) = header(&answer.headers, "x-amzn-ErrorType") {
            return code.to_string();
        }
        let start = answer.body.find("<Code>").expect("an error code") + "<Code>".len();
        let end = answer.body[start..].find("</Code>").unwrap();
        answer.body[start..start + end].to_string()
    }

    const UNLIMITED: Bucket = Bucket {
        rate: 1000.0,
        burst: 1000.0,
    };

    #[test]
    fn a_recorded_answer_is_replayed_with_the_callers_account() {
        let recorded = rds_call(
            "testing",
            &["Action=DescribeDBInstances", "Version=2014-10-31"],
        );
        let moto = Answer::new(
            200,
            "text/xml",
            format!("<DBInstanceArn>arn:aws:rds:eu-west-1:{DEFAULT_ACCOUNT}:db:a</DBInstanceArn>"),
        );
        let server = server(&[(&recorded, moto.clone())], UNLIMITED);
        let now = Instant::now();

        // The management account (any key but a member's) gets moto's answer.
        assert_eq!(server.respond(&recorded, now), moto);
        // A member gets it with its own account; the form's order is no matter.
        let asked = rds_call(
            &member_key(MEMBER),
            &["Version=2014-10-31", "Action=DescribeDBInstances"],
        );
        let answer = server.respond(&asked, now);
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            format!("<DBInstanceArn>arn:aws:rds:eu-west-1:{MEMBER}:db:a</DBInstanceArn>")
        );
        let stats = server.stats.lock().unwrap().clone();
        assert_eq!((stats.requests, stats.misses, stats.throttled), (2, 0, 0));
    }

    #[test]
    fn above_the_rate_each_protocol_answers_an_error_the_sdk_retries_as_throttling() {
        let calls = [
            rds_call("testing", &["Action=DescribeDBInstances"]),
            ecr_call("testing"),
            s3_call("testing"),
        ];
        let recorded: Vec<(&Request, Answer)> = calls
            .iter()
            .map(|c| (c, Answer::new(200, "text/xml", "<ok/>".to_string())))
            .collect();
        let server = server(&recorded, Bucket::new(0.0, 2.0));
        let now = Instant::now();
        for call in &calls {
            assert_eq!(server.respond(call, now).status, 200);
            assert_eq!(server.respond(call, now).status, 200);
            let throttled = server.respond(call, now);
            assert!(
                THROTTLING_ERRORS.contains(&error_code(&throttled).as_str()),
                "{throttled:?}"
            );
        }
        // Each (account, region, service) has a bucket of its own.
        assert_eq!(
            server.respond(&ecr_call(&member_key(MEMBER)), now).status,
            200
        );
        let stats = server.stats.lock().unwrap().clone();
        assert_eq!((stats.requests, stats.throttled, stats.misses), (10, 3, 0));
        assert_eq!(stats.services["s3"].throttled, 1);

        // The control plane is throttled too, in its own dialect.
        for (service, region, body) in [
            ("ec2", "us-east-1", "Action=DescribeRegions"),
            ("organizations", "us-east-1", ""),
        ] {
            let request = if service == "organizations" {
                list_accounts_call(body)
            } else {
                Request {
                    method: "POST".to_string(),
                    target: "/".to_string(),
                    headers: signed("testing", region, service),
                    body: body.as_bytes().to_vec(),
                }
            };
            server.respond(&request, now);
            server.respond(&request, now);
            let code = error_code(&server.respond(&request, now));
            assert!(
                THROTTLING_ERRORS.contains(&code.as_str()),
                "{service}: {code}"
            );
        }

        // Tokens come back with time.
        let later = now + Duration::from_secs(1);
        let refilled = Server::new(
            Recording::default(),
            0,
            Limits {
                latency: Duration::ZERO,
                default: Bucket::new(1.0, 1.0),
                per_service: HashMap::new(),
            },
        );
        let scope = scope_of(&ecr_call("testing")).unwrap();
        assert!(refilled.take_token(DEFAULT_ACCOUNT, &scope, now));
        assert!(!refilled.take_token(DEFAULT_ACCOUNT, &scope, now));
        assert!(refilled.take_token(DEFAULT_ACCOUNT, &scope, later));
    }

    #[test]
    fn an_unrecorded_request_is_a_500_counted_as_a_miss() {
        let server = server(&[], UNLIMITED);
        let answer = server.respond(&ecr_call("testing"), Instant::now());
        assert_eq!(answer.status, 500);
        assert_eq!(error_code(&answer), "InternalFailure");
        let stats = server.stats.lock().unwrap().clone();
        assert_eq!((stats.requests, stats.misses), (1, 1));
        assert_eq!(stats.services["ecr"].misses, 1);
    }

    #[test]
    fn the_organisation_is_listed_entered_and_known_by_its_keys() {
        let server = server(&[], UNLIMITED);
        let now = Instant::now();
        let sts = |access_key: &str, body: &str| form_call(access_key, "us-east-1", "sts", body);
        let role = "RoleArn=arn%3Aaws%3Aiam%3A%3A100000000001%3Arole%2FBackstopAudit";
        let assumed = server.respond(
            &sts(
                "testing",
                &format!("Action=AssumeRole&{role}&RoleSessionName=backstop"),
            ),
            now,
        );
        assert!(
            assumed
                .body
                .contains("<AccessKeyId>ASIA100000000001BKSP</AccessKeyId>"),
            "{}",
            assumed.body
        );
        let identity = server.respond(&sts(&member_key(MEMBER), "Action=GetCallerIdentity"), now);
        assert!(
            identity.body.contains("<Account>100000000001</Account>"),
            "{}",
            identity.body
        );
        assert!(
            identity
                .body
                .contains("assumed-role/BackstopAudit/backstop")
        );
        let management = server.respond(&sts("AKIATESTING", "Action=GetCallerIdentity"), now);
        assert!(
            management
                .body
                .contains(&format!("<Account>{DEFAULT_ACCOUNT}</Account>"))
        );

        // The suspended account (after the 3 members) cannot be entered.
        let suspended = "RoleArn=arn%3Aaws%3Aiam%3A%3A100000000004%3Arole%2FBackstopAudit";
        let denied = server.respond(
            &sts("testing", &format!("Action=AssumeRole&{suspended}")),
            now,
        );
        assert_eq!(
            (denied.status, error_code(&denied).as_str()),
            (403, "AccessDenied")
        );

        let page: serde_json::Value =
            serde_json::from_str(&server.respond(&list_accounts_call("{}"), now).body).unwrap();
        let statuses: Vec<(&str, &str)> = page["Accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["Id"].as_str().unwrap(), a["Status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            statuses,
            [
                (DEFAULT_ACCOUNT, "ACTIVE"),
                ("100000000001", "ACTIVE"),
                ("100000000002", "ACTIVE"),
                ("100000000003", "ACTIVE"),
                ("100000000004", "SUSPENDED"),
            ]
        );
        assert!(page.get("NextToken").is_none());
        assert_eq!(server.stats.lock().unwrap().control_plane, 5);
    }

    #[test]
    fn listing_accounts_pages_by_twenty() {
        let server = Server::new(
            Recording::default(),
            50,
            Limits {
                latency: Duration::ZERO,
                default: UNLIMITED,
                per_service: HashMap::new(),
            },
        );
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = match &token {
                Some(t) => serde_json::json!({ "NextToken": t }).to_string(),
                None => "{}".to_string(),
            };
            let request = list_accounts_call(&body);
            let page: serde_json::Value =
                serde_json::from_str(&server.respond(&request, Instant::now()).body).unwrap();
            let accounts = page["Accounts"].as_array().unwrap();
            assert!(accounts.len() <= ACCOUNTS_PER_PAGE);
            seen.extend(
                accounts
                    .iter()
                    .map(|a| a["Id"].as_str().unwrap().to_string()),
            );
            token = page["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        // The management account, 50 members and the suspended one.
        assert_eq!(seen.len(), 52);
        assert_eq!(seen[51], "100000000051");
    }

    #[test]
    fn answers_travel_over_a_kept_alive_connection() {
        let recorded = s3_call("testing");
        let server = Arc::new(server(
            &[(
                &recorded,
                Answer::new(
                    200,
                    "application/xml",
                    "<VersioningConfiguration/>".to_string(),
                ),
            )],
            UNLIMITED,
        ));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Some(Ok(stream)) = listener.incoming().next() {
                serve_connection(stream, &server);
            }
        });
        let mut conn = TcpStream::connect(address).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        for target in ["/bucket?versioning", "/_stats"] {
            let authorization = &signed(&member_key(MEMBER), "us-east-1", "s3")[0].1;
            write!(
                conn,
                "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\r\n"
            )
            .unwrap();
            let (status, _) = read_status_line(&mut reader).unwrap();
            let headers = read_headers(&mut reader).unwrap();
            let body = String::from_utf8(read_body(&mut reader, &headers, true).unwrap()).unwrap();
            assert_eq!(status, 200, "{target}");
            if target == "/_stats" {
                let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    (stats["requests"].as_u64(), stats["misses"].as_u64()),
                    (Some(1), Some(0))
                );
            } else {
                assert_eq!(body, "<VersioningConfiguration/>");
            }
        }
    }
}
