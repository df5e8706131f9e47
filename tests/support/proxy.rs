//! A fault-injecting HTTP/1.1 proxy in front of the moto emulator.
//!
//! [`Proxy::start`] listens on a free loopback port and forwards every
//! request to the emulator (plain HTTP, one upstream connection per
//! request). It logs each request's AWS operation (see [`operation_of`])
//! and answers the requests its [`FaultRule`]s select with a throttling
//! error in the service's protocol, an HTTP 500, or a dropped connection.
//! It serves loopback clients only and stops when dropped.
//!
//! Point the SDK (or the `backstop` binary, through `AWS_ENDPOINT_URL`) at
//! [`Proxy::endpoint`].
//!
//! Blocking std I/O with a thread per connection: the SDK keeps at most a
//! few dozen connections open, and no async runtime is needed, so the
//! proxy works from synchronous tests, async tests and examples alike.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How a selected request is answered instead of being forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException` (JSON protocols), 400 `Throttling`
    /// (query protocols) or 503 `SlowDown` (S3), shaped as AWS sends them.
    Throttle,
    /// HTTP 500 `InternalFailure` / `InternalError` in the protocol's shape.
    ServerError,
    /// The request is read, then the connection is closed without an answer.
    Drop,
}

/// Which requests a [`FaultRule`] selects. Attempts are told apart by the
/// SDK's `amz-sdk-invocation-id` header, which all attempts of one call
/// share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The first attempt of every call.
    FirstAttempt,
    /// The first attempt of the first `n` calls of each operation (counted
    /// per operation name across regions); later calls pass untouched.
    FirstAttemptOfFirstCalls(u32),
    /// Every attempt of every call.
    EveryAttempt,
    /// Every `n`th request of the operation (the `n`th, `2n`th, ...).
    EveryNth(u32),
}

/// Answers the requests selected by `operation` and `trigger` with a fault.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// The operation name ([`operation_of`]); `None`: every operation.
    pub operation: Option<String>,
    pub trigger: Trigger,
    /// The faults to inject, in turn: the `i`th selected request gets
    /// `faults[i % len]`.
    pub faults: Vec<Fault>,
}

impl FaultRule {
    pub fn new(operation: Option<&str>, trigger: Trigger, faults: &[Fault]) -> FaultRule {
        assert!(!faults.is_empty(), "a fault rule needs at least one fault");
        FaultRule {
            operation: operation.map(str::to_string),
            trigger,
            faults: faults.to_vec(),
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The service from the SigV4 credential scope (`s3`, `rds`, ...), or
    /// `unsigned`.
    pub service: String,
    /// The API operation ([`operation_of`]).
    pub operation: String,
    /// The region from the SigV4 credential scope.
    pub region: String,
    /// The SDK's invocation id (shared by the attempts of one call).
    pub invocation: String,
    /// 1 for the first attempt of a call, 2 for its first retry, ...
    pub attempt: u32,
    /// The injected fault, if any.
    pub fault: Option<Fault>,
    /// The emulator's HTTP status when the request was forwarded.
    pub upstream_status: Option<u16>,
    /// When the request arrived, from the proxy's start.
    pub at: Duration,
}

#[derive(Default)]
struct State {
    log: Vec<Logged>,
    /// Requests seen per invocation id.
    attempts: HashMap<String, u32>,
    /// Calls (first attempts) seen per operation.
    calls: HashMap<String, u32>,
    /// Requests seen per operation.
    requests: HashMap<String, u32>,
    /// Faults injected per rule.
    injected: Vec<usize>,
}

struct Shared {
    started: Instant,
    upstream: SocketAddr,
    rules: Vec<FaultRule>,
    state: Mutex<State>,
    stop: AtomicBool,
    connections: Mutex<Vec<TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// The running proxy; dropping it closes every connection and stops it.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// How long the proxy waits for the emulator's answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(60);

impl Proxy {
    /// Starts a proxy forwarding to `upstream` (`http://127.0.0.1:PORT`,
    /// a loopback address) with the given fault rules (empty: forward
    /// everything).
    pub fn start(upstream: &str, rules: Vec<FaultRule>) -> Proxy {
        Proxy::start_on(0, upstream, rules)
    }

    /// [`Proxy::start`] on a given loopback port (0: any free one).
    pub fn start_on(port: u16, upstream: &str, rules: Vec<FaultRule>) -> Proxy {
        let authority = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/');
        let upstream: SocketAddr = authority
            .parse()
            .unwrap_or_else(|e| panic!("upstream {authority:?} is not IP:PORT: {e}"));
        assert!(
            upstream.ip().is_loopback(),
            "the proxy only forwards to loopback, not {upstream}"
        );
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("bind a loopback port");
        let addr = listener.local_addr().expect("listener address");
        let shared = Arc::new(Shared {
            started: Instant::now(),
            upstream,
            state: Mutex::new(State {
                injected: vec![0; rules.len()],
                ..State::default()
            }),
            rules,
            stop: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
            workers: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fault-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
                .expect("spawn the proxy thread")
        };
        Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<Logged> {
        self.shared.state.lock().unwrap().log.clone()
    }

    /// Forgets the log and the attempt counters (the rules start over).
    pub fn clear(&self) {
        let mut state = self.shared.state.lock().unwrap();
        let rules = state.injected.len();
        *state = State {
            injected: vec![0; rules],
            ..State::default()
        };
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self.shared.connections.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = self.shared.workers.lock().unwrap().drain(..).collect();
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        // Loopback clients only.
        if !stream.peer_addr().is_ok_and(|a| a.ip().is_loopback()) {
            continue;
        }
        let Ok(handle) = stream.try_clone() else {
            continue;
        };
        let mut connections = shared.connections.lock().unwrap();
        connections.retain(|s| s.peer_addr().is_ok());
        connections.push(handle);
        drop(connections);
        let worker = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fault-proxy-conn".into())
                .spawn(move || serve(stream, &shared))
                .expect("spawn a connection thread")
        };
        let mut workers = shared.workers.lock().unwrap();
        workers.retain(|w| !w.is_finished());
        workers.push(worker);
    }
}

/// One parsed HTTP request.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Serves one client connection (keep-alive) until it closes.
fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        let at = shared.started.elapsed();
        let (service, region) = credential_scope(&request);
        let operation = operation_of(
            &request.method,
            &request.target,
            &request.headers,
            &request.body,
        );
        let invocation = request
            .header("amz-sdk-invocation-id")
            .unwrap_or_default()
            .to_string();
        let (attempt, fault) = decide(shared, &operation, &invocation);
        let mut entry = Logged {
            service: service.clone(),
            operation: operation.clone(),
            region,
            invocation,
            attempt,
            fault,
            upstream_status: None,
            at,
        };
        let keep_going = match fault {
            Some(Fault::Drop) => {
                shared.state.lock().unwrap().log.push(entry);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Some(kind) => {
                let answer = fault_response(kind, protocol(&service, &request));
                shared.state.lock().unwrap().log.push(entry);
                writer.write_all(&answer).is_ok()
            }
            None => match forward(shared.upstream, &request) {
                Ok((status, answer)) => {
                    entry.upstream_status = Some(status);
                    shared.state.lock().unwrap().log.push(entry);
                    writer.write_all(&answer).is_ok()
                }
                Err(_) => {
                    shared.state.lock().unwrap().log.push(entry);
                    false
                }
            },
        };
        if !keep_going || wants_close(&request) {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn wants_close(request: &Request) -> bool {
    request
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
}

/// Counts the request and applies the first matching rule.
fn decide(shared: &Shared, operation: &str, invocation: &str) -> (u32, Option<Fault>) {
    let mut state = shared.state.lock().unwrap();
    let attempt = if invocation.is_empty() {
        1
    } else {
        let n = state.attempts.entry(invocation.to_string()).or_default();
        *n += 1;
        *n
    };
    let request_no = {
        let n = state.requests.entry(operation.to_string()).or_default();
        *n += 1;
        *n
    };
    let call_no = if attempt == 1 {
        let n = state.calls.entry(operation.to_string()).or_default();
        *n += 1;
        *n
    } else {
        0
    };
    for (i, rule) in shared.rules.iter().enumerate() {
        if rule.operation.as_deref().is_some_and(|op| op != operation) {
            continue;
        }
        let selected = match rule.trigger {
            Trigger::FirstAttempt => attempt == 1,
            Trigger::FirstAttemptOfFirstCalls(n) => attempt == 1 && call_no <= n,
            Trigger::EveryAttempt => true,
            Trigger::EveryNth(n) => n > 0 && request_no % n == 0,
        };
        if selected {
            let k = state.injected[i];
            state.injected[i] += 1;
            return (attempt, Some(rule.faults[k % rule.faults.len()]));
        }
    }
    (attempt, None)
}

/// Reads one request (head and body); `None` at a clean end of stream.
/// Answers `Expect: 100-continue` itself.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other(format!("bad request line {line:?}")));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let headers = read_headers(reader)?;
    if header(&headers, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let body = read_body(reader, &headers, true)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn read_headers(reader: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

/// Reads a message body framed by Content-Length or chunked encoding
/// (decoded); with neither, a request has no body and a response runs to
/// the end of the stream.
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    is_request: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if header(headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = size.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16)
                .map_err(|e| std::io::Error::other(format!("bad chunk size {size:?}: {e}")))?;
            if size == 0 {
                // Trailers, then the empty line.
                read_headers(reader)?;
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = header(headers, "content-length") {
        let len: usize = len
            .parse()
            .map_err(|e| std::io::Error::other(format!("bad content-length {len:?}: {e}")))?;
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if !is_request {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// Hop-by-hop headers the proxy does not pass on (it frames each message
/// itself).
fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "content-length",
        "expect",
        "te",
        "upgrade",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// Sends the request to the emulator on a fresh connection and returns its
/// status and the answer re-framed for the client.
fn forward(upstream: SocketAddr, request: &Request) -> std::io::Result<(u16, Vec<u8>)> {
    let mut conn = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method, request.target).into_bytes();
    for (k, v) in &request.headers {
        if !is_hop_by_hop(k) {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            request.body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&request.body);
    conn.write_all(&out)?;

    let mut reader = BufReader::new(conn);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let reason = status_line
        .split_whitespace()
        .skip(2)
        .collect::<Vec<_>>()
        .join(" ");
    let headers = read_headers(&mut reader)?;
    let head_only = request.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304;
    let body = if head_only {
        Vec::new()
    } else {
        read_body(&mut reader, &headers, false)?
    };

    let mut answer = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (k, v) in &headers {
        if !is_hop_by_hop(k) {
            answer.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
    }
    let length = if head_only {
        header(&headers, "content-length")
            .unwrap_or("0")
            .to_string()
    } else {
        body.len().to_string()
    };
    answer.extend_from_slice(format!("Content-Length: {length}\r\n\r\n").as_bytes());
    answer.extend_from_slice(&body);
    Ok((status, answer))
}

/// The wire protocol of a request, which decides the shape of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson (ECR, CloudWatch Logs, KMS): `X-Amz-Target`.
    Json,
    /// awsQuery (RDS, STS): `Action=` in a form body.
    Query,
    /// S3's REST-XML.
    S3,
}

fn protocol(service: &str, request: &Request) -> Protocol {
    if request.header("x-amz-target").is_some() {
        Protocol::Json
    } else if service == "s3" {
        Protocol::S3
    } else {
        Protocol::Query
    }
}

/// A complete HTTP answer carrying the fault in the protocol's shape.
fn fault_response(fault: Fault, protocol: Protocol) -> Vec<u8> {
    let (status, reason, code, message) = match (fault, protocol) {
        (Fault::Throttle, Protocol::Json) => {
            (400, "Bad Request", "ThrottlingException", "Rate exceeded")
        }
        (Fault::Throttle, Protocol::Query) => (400, "Bad Request", "Throttling", "Rate exceeded"),
        (Fault::Throttle, Protocol::S3) => (
            503,
            "Slow Down",
            "SlowDown",
            "Please reduce your request rate.",
        ),
        (Fault::ServerError, Protocol::Json | Protocol::Query) => (
            500,
            "Internal Server Error",
            "InternalFailure",
            "Injected server error",
        ),
        (Fault::ServerError, Protocol::S3) => (
            500,
            "Internal Server Error",
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
        (Fault::Drop, _) => unreachable!("a dropped connection has no answer"),
    };
    let request_id = "00000000-0000-4000-8000-fau17e1ec7ed";
    let (content_type, extra, body) = match protocol {
        Protocol::Json => (
            "application/x-amz-json-1.1",
            format!("x-amzn-ErrorType: {code}\r\nx-amzn-RequestId: {request_id}\r\n"),
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        ),
        Protocol::Query => (
            "text/xml",
            format!("x-amzn-RequestId: {request_id}\r\n"),
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code>\
                 <Message>{message}</Message></Error><RequestId>{request_id}</RequestId>\
                 </ErrorResponse>",
                if status >= 500 { "Receiver" } else { "Sender" }
            ),
        ),
        Protocol::S3 => (
            "application/xml",
            format!("x-amz-request-id: {request_id}\r\n"),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
            ),
        ),
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Service and region from the SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
fn credential_scope(request: &Request) -> (String, String) {
    let scope = request
        .header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split([',', ' ']).next())
        .map(|c| c.split('/').collect::<Vec<_>>());
    match scope.as_deref() {
        Some([_, _, region, service, ..]) => (service.to_string(), region.to_string()),
        _ => ("unsigned".to_string(), String::new()),
    }
}

/// The AWS operation a request calls:
/// - JSON protocols (ECR, Logs, KMS): the `X-Amz-Target` header's
///   `Prefix.Operation`;
/// - query protocols (RDS, STS): `Action=` in the form body or the query;
/// - S3 REST: from the method, path and query (`GET /b?versioning` is
///   `GetBucketVersioning`); a request it does not recognise is named
///   `S3 METHOD /path?query`, which no test mistakes for a read.
pub fn operation_of(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    if let Some(t) = header(headers, "x-amz-target") {
        return t.rsplit('.').next().unwrap_or(t).to_string();
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Query protocols send a form; S3 never does (an object body that
    // happens to contain `Action=` must not pass for a read).
    let is_form = header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form {
        String::from_utf8_lossy(body).into_owned()
    } else {
        String::new()
    };
    let query_action = if path == "/" { query } else { "" };
    let action = form
        .split('&')
        .chain(query_action.split('&'))
        .find_map(|pair| pair.strip_prefix("Action="));
    if let Some(action) = action {
        return action.to_string();
    }
    s3_operation(method, path, query)
}

fn s3_operation(method: &str, path: &str, query: &str) -> String {
    let keys: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or(p))
        .collect();
    let has = |k: &str| keys.contains(&k);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = method.to_ascii_uppercase();
    let name = match (method.as_str(), segments.len()) {
        ("GET", 0) => "ListBuckets",
        ("GET", 1) if has("versioning") => "GetBucketVersioning",
        ("GET", 1) if has("lifecycle") => "GetBucketLifecycleConfiguration",
        ("GET", 1) if has("location") => "GetBucketLocation",
        ("GET", 1) if has("encryption") => "GetBucketEncryption",
        ("GET", 1) if has("replication") => "GetBucketReplication",
        ("GET", 1) if has("object-lock") => "GetObjectLockConfiguration",
        ("GET", 1) if has("publicAccessBlock") => "GetPublicAccessBlock",
        ("GET", 1) if has("tagging") => "GetBucketTagging",
        ("GET", 1) if has("policy") => "GetBucketPolicy",
        ("GET", 1) if has("acl") => "GetBucketAcl",
        ("GET", 1) if has("logging") => "GetBucketLogging",
        ("GET", 1) if has("list-type") => "ListObjectsV2",
        ("GET", 1) if has("versions") => "ListObjectVersions",
        ("GET", 1) if keys.is_empty() => "ListObjects",
        ("HEAD", 1) => "HeadBucket",
        ("GET", _) if has("tagging") => "GetObjectTagging",
        ("GET", n) if n > 1 => "GetObject",
        ("HEAD", n) if n > 1 => "HeadObject",
        ("PUT", 1) if keys.is_empty() => "CreateBucket",
        ("PUT", 1) => "PutBucketConfiguration",
        ("PUT", _) => "PutObject",
        ("DELETE", 1) => "DeleteBucketOrConfiguration",
        ("DELETE", _) => "DeleteObject",
        ("POST", _) => "PostObject",
        _ => "",
    };
    if name.is_empty() {
        format!("S3 {method} {path}?{query}")
    } else {
        name.to_string()
    }
}
