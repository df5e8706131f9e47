//! A fault-injecting HTTP/1.1 proxy in front of the moto emulator.
//!
//! [`Proxy::start`] listens on a free loopback port and forwards every
//! request to the emulator (plain HTTP, one upstream connection per
//! request). It logs each request's AWS operation (see [`operation_of`])
//! and answers the requests its [`FaultRule`]s select with a throttling
//! error in the service's protocol, an HTTP 500, an access denial, a
//! dropped connection, no answer at all, a cut-off answer, or a listing
//! page whose continuation token repeats (see [`Fault`]). With
//! [`Options::page_size`] it also makes the emulator answer listings in
//! small pages. It serves loopback clients only and stops when dropped.
//!
//! Point the SDK (or the `backstop` binary, through `AWS_ENDPOINT_URL`) at
//! [`Proxy::endpoint`].
//!
//! Blocking std I/O with a thread per connection: the SDK keeps at most a
//! few dozen connections open, and no async runtime is needed, so the
//! proxy works from synchronous tests, async tests and examples alike.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http1::{
    Request, header, is_hop_by_hop, read_body, read_headers, read_request, read_status_line,
    write_request,
};

/// How a selected request is answered instead of being forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException` (JSON protocols), 400 `Throttling`
    /// (query protocols) or 503 `SlowDown` (S3), shaped as AWS sends them.
    Throttle,
    /// HTTP 500 `InternalFailure` / `InternalError` in the protocol's shape.
    ServerError,
    /// The request is read, then the connection is closed without an answer.
    Drop,
    /// `AccessDeniedException` (JSON protocols, HTTP 400) or `AccessDenied`
    /// (query protocols and S3, HTTP 403), as an IAM denial looks.
    AccessDenied,
    /// The request is read and never answered: the connection stays open
    /// until the client gives up (its timeout) or the proxy stops.
    Hang,
    /// The emulator's answer cut off: its head (with the whole body's
    /// Content-Length) and half its body, then the connection is closed.
    TruncatedBody,
    /// The emulator's answer with its body cut in half and a Content-Length
    /// that matches the cut: a well-framed answer carrying a malformed
    /// document.
    MalformedBody,
    /// A listing page (the emulator's, status 200) that names a next page
    /// with a token the proxy made up; asked for that page, the proxy
    /// answers the same page with the same token again, forever. Other
    /// operations and error answers are forwarded unchanged.
    RepeatToken,
    /// Like [`Fault::RepeatToken`] with two made-up tokens that lead to
    /// each other: the page names token A; asked for A, the same page names
    /// B; asked for B, it names A again, and so on. A client that compares
    /// each token with the previous one only never stops; after
    /// [`REPLAY_LIMIT`] requests for one token the proxy answers them with
    /// HTTP 500 so that the run ends.
    TokenCycle,
    /// An S3 `ListObjectsV2` page that says `IsTruncated` but gives no
    /// continuation token. Other answers are forwarded unchanged.
    TruncatedNoToken,
}

impl Fault {
    /// Whether `operation`'s answer can carry this fault (the listing
    /// faults only fit the listings [`next_page_field`] knows).
    pub fn fits(self, operation: &str) -> bool {
        match self {
            Fault::RepeatToken | Fault::TokenCycle => next_page_field(operation).is_some(),
            Fault::TruncatedNoToken => operation == "ListObjectsV2",
            _ => true,
        }
    }
}

/// Which requests a [`FaultRule`] selects. Attempts are told apart by the
/// SDK's `amz-sdk-invocation-id` header, which all attempts of one call
/// share.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The call whose [`Logged::call`] is `call`: its first attempt only,
    /// or every attempt. Call names do not depend on timing, so the same
    /// requests are selected in every run that makes them.
    Call { call: String, every_attempt: bool },
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
    /// The call, named by what it asks rather than when: [`call_name`] of
    /// the request, then the page, `#1` for a request without a
    /// continuation token and `#n` for the `n - 1`th request with one
    /// (tokens are left out of the name): `s3 us-east-1 GetBucketVersioning
    /// GET /b?versioning #1`. A call repeated with the same parameters has
    /// the same name, as it would get the same answer (an IAM denial, say).
    /// Every attempt of a call has the call's name.
    pub call: String,
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
    /// Requests seen per invocation id, and the call's name.
    attempts: HashMap<String, (u32, String)>,
    /// Calls (first attempts) with a continuation token seen per call name
    /// without its `#n`.
    names: HashMap<String, u32>,
    /// The pages answered with a made-up continuation token, by token.
    repeated_pages: HashMap<String, Replay>,
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
    options: Options,
    state: Mutex<State>,
    stop: AtomicBool,
    connections: Mutex<Vec<TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// How the proxy changes what it forwards, besides the faults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Asks the emulator for pages of at most this many items in the
    /// listings that take a page size and where the client set none (RDS
    /// `MaxRecords`, raised to AWS's minimum of 20; Logs `limit`; S3
    /// `max-keys`; ECR `maxResults`, which moto ignores), so that a small
    /// account's listings span several pages. AWS may always answer with
    /// fewer items than asked for, so clients must follow the tokens anyway.
    pub page_size: Option<u32>,
    /// The region of each bucket, to answer as S3 does a request about a
    /// bucket signed for another region (which the emulator serves as if
    /// every bucket were everywhere): HTTP 301 `PermanentRedirect` with
    /// `x-amz-bucket-region`. `GetBucketLocation` (which S3 answers from
    /// any region) and requests about unlisted buckets are forwarded.
    pub bucket_regions: BTreeMap<String, String>,
}

/// The answer to a request for a made-up continuation token.
struct Replay {
    fault: Fault,
    page: Vec<u8>,
    /// Requests for the token so far.
    served: u32,
}

/// Requests for one made-up continuation token that get its page; later
/// ones get HTTP 500.
pub const REPLAY_LIMIT: u32 = 10;

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
        Proxy::start_with(port, upstream, rules, Options::default())
    }

    /// [`Proxy::start_on`] with [`Options`].
    pub fn start_with(port: u16, upstream: &str, rules: Vec<FaultRule>, options: Options) -> Proxy {
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
            options,
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
        let mut request = match read_request(&mut reader, &mut writer) {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        let at = shared.started.elapsed();
        let (service, region) = credential_scope(&request);
        let operation = if service == "backup" {
            backup_operation(&request.method, &request.target)
        } else {
            operation_of(
                &request.method,
                &request.target,
                &request.headers,
                &request.body,
            )
        };
        let invocation = request
            .header("amz-sdk-invocation-id")
            .unwrap_or_default()
            .to_string();
        let name = call_name(&service, &region, &operation, &request);
        let (attempt, call, fault) = decide(shared, &operation, &invocation, &name);
        // The next page of a page whose token the proxy made up: that page
        // again, whatever else was decided.
        let replayed = replayed_page(shared, &request, protocol(&service, &request));
        let (replayed, fault) = match replayed {
            Some((kind, page)) => (Some(page), Some(kind)),
            None => (None, fault),
        };
        let mut entry = Logged {
            service: service.clone(),
            operation: operation.clone(),
            region,
            invocation,
            attempt,
            call,
            fault,
            upstream_status: None,
            at,
        };
        // The answer is sent incomplete: the connection must end with it.
        let mut cut_off = false;
        let answer = match (replayed, fault) {
            (Some(page), _) => Some(page),
            (None, Some(Fault::Drop)) => None,
            (None, Some(Fault::Hang)) => {
                shared.state.lock().unwrap().log.push(entry);
                hang(&mut reader, shared);
                return;
            }
            (None, Some(kind @ (Fault::Throttle | Fault::ServerError | Fault::AccessDenied))) => {
                Some(fault_response(kind, protocol(&service, &request)))
            }
            (None, fault)
                if let Some(actual) = wrong_region(shared, &service, &entry, &request) =>
            {
                // Not a fault: what S3 itself answers.
                let _ = fault;
                entry.fault = None;
                Some(permanent_redirect(&actual))
            }
            (None, fault) => {
                if let Some(size) = shared.options.page_size {
                    ask_for_small_pages(&mut request, &operation, size);
                }
                match forward(shared.upstream, &request) {
                    Ok(answer)
                        if fault == Some(Fault::TruncatedBody)
                            && answer.body.len() >= 2
                            && !answer.head_only =>
                    {
                        entry.upstream_status = Some(answer.status);
                        let mut cut = answer.render();
                        cut.truncate(cut.len() - answer.body.len() / 2);
                        cut_off = true;
                        Some(cut)
                    }
                    Ok(mut answer) => {
                        entry.upstream_status = Some(answer.status);
                        // Logged as served only when the answer was changed.
                        entry.fault = fault.filter(|&f| alter(shared, f, &operation, &mut answer));
                        Some(answer.render())
                    }
                    Err(_) => None,
                }
            }
        };
        shared.state.lock().unwrap().log.push(entry);
        let keep_going = match answer {
            Some(answer) => writer.write_all(&answer).is_ok(),
            None => false,
        };
        if !keep_going || cut_off || wants_close(&request) {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The region of the bucket a request is about, when the request was
/// signed for another one ([`Options::bucket_regions`]).
fn wrong_region(
    shared: &Shared,
    service: &str,
    entry: &Logged,
    request: &Request,
) -> Option<String> {
    if service != "s3"
        || matches!(
            entry.operation.as_str(),
            "GetBucketLocation" | "ListBuckets"
        )
    {
        return None;
    }
    let path = request.target.split('?').next().unwrap_or("");
    let bucket = path.split('/').find(|s| !s.is_empty())?;
    let actual = shared.options.bucket_regions.get(bucket)?;
    (*actual != entry.region).then(|| actual.clone())
}

/// S3's answer to a request about a bucket in another region.
fn permanent_redirect(region: &str) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code>\
         <Message>The bucket you are attempting to access must be addressed using the specified \
         endpoint. Please send all future requests to this endpoint.</Message>\
         <Endpoint>s3.{region}.amazonaws.com</Endpoint>\
         <RequestId>00000000-0000-4000-8000-0000redirect</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 301 Moved Permanently\r\nContent-Type: application/xml\r\n\
         x-amz-bucket-region: {region}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// How long a [`Fault::Hang`] keeps a connection open at most when the
/// client does not give up first.
const HANG_LIMIT: Duration = Duration::from_secs(120);

/// Keeps the connection open without answering until the client closes
/// it, the proxy stops, or [`HANG_LIMIT`].
fn hang(reader: &mut BufReader<TcpStream>, shared: &Shared) {
    let started = Instant::now();
    let _ = reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)));
    let mut buffer = [0; 1024];
    while !shared.stop.load(Ordering::SeqCst) && started.elapsed() < HANG_LIMIT {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = reader.get_ref().shutdown(Shutdown::Both);
}

/// Changes a forwarded answer as `fault` says; false when the fault does
/// not apply to it (an error answer, an empty body, not a listing).
fn alter(shared: &Shared, fault: Fault, operation: &str, answer: &mut Answer) -> bool {
    match fault {
        Fault::MalformedBody => {
            if answer.body.len() < 2 || answer.head_only {
                return false;
            }
            let keep = answer.body.len() / 2;
            answer.body.truncate(keep);
            true
        }
        Fault::RepeatToken | Fault::TokenCycle if answer.status == 200 => {
            let mut state = shared.state.lock().unwrap();
            let n = state.repeated_pages.len();
            let (a, b) = (
                format!("BSREPEAT{:06}", n + 1),
                format!("BSREPEAT{:06}", n + 2),
            );
            let Some(naming_a) = with_next_token(operation, &answer.body, &a) else {
                return false;
            };
            let naming_b = with_next_token(operation, &answer.body, &b).expect("as with A");
            let mut replay = |token: String, body: Vec<u8>| {
                answer.body = body;
                let page = answer.render();
                state.repeated_pages.insert(
                    token,
                    Replay {
                        fault,
                        page,
                        served: 0,
                    },
                );
            };
            if fault == Fault::TokenCycle {
                replay(b, naming_a.clone());
                replay(a, naming_b);
            } else {
                replay(a, naming_a.clone());
            }
            answer.body = naming_a;
            true
        }
        Fault::TruncatedNoToken if answer.status == 200 && operation == "ListObjectsV2" => {
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            let text = without_element(&text, "NextContinuationToken");
            let text = without_element(&text, "IsTruncated");
            match insert_after_open(&text, "ListBucketResult", "<IsTruncated>true</IsTruncated>") {
                Some(text) => {
                    answer.body = text.into_bytes();
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}

/// The fault and the stored answer when the request asks for the page
/// after one whose token the proxy made up.
fn replayed_page(
    shared: &Shared,
    request: &Request,
    protocol: Protocol,
) -> Option<(Fault, Vec<u8>)> {
    let mut state = shared.state.lock().unwrap();
    if state.repeated_pages.is_empty() {
        return None;
    }
    let body = String::from_utf8_lossy(&request.body);
    let replay = state
        .repeated_pages
        .iter_mut()
        .find(|(token, _)| request.target.contains(token.as_str()) || body.contains(token.as_str()))
        .map(|(_, replay)| replay)?;
    replay.served += 1;
    if replay.served > REPLAY_LIMIT {
        return Some((replay.fault, fault_response(Fault::ServerError, protocol)));
    }
    Some((replay.fault, replay.page.clone()))
}

/// Where a listing's answer names its next page: the element or field of
/// the continuation token, for the listings the collectors page through.
pub fn next_page_field(operation: &str) -> Option<&'static str> {
    match operation {
        "DescribeDBInstances"
        | "DescribeDBClusters"
        | "DescribeDBSnapshots"
        | "DescribeDBClusterSnapshots" => Some("Marker"),
        "DescribeLogGroups"
        | "DescribeSubscriptionFilters"
        | "DescribeAccountPolicies"
        | "DescribeRepositories" => Some("nextToken"),
        "ListObjectsV2" => Some("NextContinuationToken"),
        "ListBuckets" => Some("ContinuationToken"),
        _ => None,
    }
}

/// The listing answer `body` naming `token` as its next page (any token it
/// had replaced); `None` when `body` is not such an answer.
fn with_next_token(operation: &str, body: &[u8], token: &str) -> Option<Vec<u8>> {
    let field = next_page_field(operation)?;
    if field == "nextToken" {
        let mut doc: serde_json::Value = serde_json::from_slice(body).ok()?;
        doc.as_object_mut()?
            .insert(field.to_string(), serde_json::Value::from(token));
        return serde_json::to_vec(&doc).ok();
    }
    let text = without_element(std::str::from_utf8(body).ok()?, field);
    let element = format!("<{field}>{token}</{field}>");
    let text = match operation {
        "ListObjectsV2" => insert_after_open(
            &without_element(&text, "IsTruncated"),
            "ListBucketResult",
            &format!("<IsTruncated>true</IsTruncated>{element}"),
        )?,
        "ListBuckets" => insert_after_open(&text, "ListAllMyBucketsResult", &element)?,
        _ => insert_after_open(&text, &format!("{operation}Result"), &element)?,
    };
    Some(text.into_bytes())
}

/// `text` without the first `<name>...</name>` (or `<name/>`) element.
fn without_element(text: &str, name: &str) -> String {
    let (open, close, empty) = (
        format!("<{name}>"),
        format!("</{name}>"),
        format!("<{name}/>"),
    );
    if let Some(start) = text.find(&open)
        && let Some(len) = text[start..].find(&close)
    {
        return format!("{}{}", &text[..start], &text[start + len + close.len()..]);
    }
    text.replacen(&empty, "", 1)
}

/// `text` with `insert` right after the opening tag of the first `<name>`
/// element (which may carry attributes).
fn insert_after_open(text: &str, name: &str, insert: &str) -> Option<String> {
    let open = format!("<{name}");
    let start = text
        .match_indices(&open)
        .map(|(i, _)| i)
        .find(|&i| text[i + open.len()..].starts_with(['>', ' ']))?;
    let end = start + text[start..].find('>')? + 1;
    Some(format!("{}{insert}{}", &text[..end], &text[end..]))
}

/// Asks for pages of at most `size` items (see [`Options::page_size`]).
fn ask_for_small_pages(request: &mut Request, operation: &str, size: u32) {
    let form_has = |body: &[u8], key: &str| {
        String::from_utf8_lossy(body)
            .split('&')
            .any(|p| p.split('=').next() == Some(key))
    };
    match operation {
        "DescribeDBInstances"
        | "DescribeDBClusters"
        | "DescribeDBSnapshots"
        | "DescribeDBClusterSnapshots"
            if !form_has(&request.body, "MaxRecords") =>
        {
            let param = format!("&MaxRecords={}", size.max(20));
            request.body.extend_from_slice(param.as_bytes());
        }
        "DescribeLogGroups" | "DescribeSubscriptionFilters" | "DescribeRepositories" => {
            let key = if operation == "DescribeRepositories" {
                "maxResults"
            } else {
                "limit"
            };
            let Ok(serde_json::Value::Object(mut doc)) =
                serde_json::from_slice::<serde_json::Value>(&request.body)
            else {
                return;
            };
            if !doc.contains_key(key) {
                doc.insert(key.to_string(), serde_json::Value::from(size.max(1)));
                request.body = serde_json::to_vec(&doc).expect("a JSON object serializes");
            }
        }
        "ListObjectsV2" => {
            let (_, query) = request.target.split_once('?').unwrap_or(("", ""));
            if !query
                .split('&')
                .any(|p| p.split('=').next() == Some("max-keys"))
            {
                request
                    .target
                    .push_str(&format!("&max-keys={}", size.max(1)));
            }
        }
        _ => {}
    }
}

/// The parameters that carry a continuation token (left out of call names).
const TOKEN_PARAMETERS: &[&str] = &[
    "Marker",
    "NextToken",
    "nextToken",
    "continuation-token",
    "ContinuationToken",
];

/// What a request asks, without continuation tokens and without anything
/// that differs between attempts or runs (signatures, dates, ids):
/// `SERVICE REGION OPERATION` and the S3 method, path and query, the query
/// protocol's form, or the JSON protocol's document; and whether it
/// carried a continuation token (asks for a page after the first).
fn call_name(service: &str, region: &str, operation: &str, request: &Request) -> (String, bool) {
    let mut paged = false;
    let mut without_tokens = |pairs: &str| {
        pairs
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let (key, value) = p.split_once('=').unwrap_or((p, ""));
                let token = TOKEN_PARAMETERS.contains(&key);
                paged |= token && !value.is_empty();
                !token
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let asked = if request.header("x-amz-target").is_some() {
        match serde_json::from_slice::<serde_json::Value>(&request.body) {
            Ok(serde_json::Value::Object(mut doc)) => {
                doc.retain(|k, v| {
                    let token = TOKEN_PARAMETERS.contains(&k.as_str());
                    paged |= token && v.as_str().is_some_and(|t| !t.is_empty());
                    !token
                });
                serde_json::Value::Object(doc).to_string()
            }
            _ => String::from_utf8_lossy(&request.body).into_owned(),
        }
    } else if request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        without_tokens(&String::from_utf8_lossy(&request.body))
    } else {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let query = without_tokens(query);
        if query.is_empty() {
            format!("{} {path}", request.method)
        } else {
            format!("{} {path}?{query}", request.method)
        }
    };
    (format!("{service} {region} {operation} {asked}"), paged)
}

fn wants_close(request: &Request) -> bool {
    request
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
}

/// Counts the request, names its call, and applies the first matching rule
/// whose fault fits the operation.
fn decide(
    shared: &Shared,
    operation: &str,
    invocation: &str,
    (name, paged): &(String, bool),
) -> (u32, String, Option<Fault>) {
    let mut state = shared.state.lock().unwrap();
    let new_call = |state: &mut State| {
        if !paged {
            return format!("{name} #1");
        }
        let n = state.names.entry(name.to_string()).or_default();
        *n += 1;
        format!("{name} #{}", *n + 1)
    };
    let (attempt, call) = if invocation.is_empty() {
        (1, new_call(&mut state))
    } else if let Some((n, call)) = state.attempts.get_mut(invocation) {
        *n += 1;
        (*n, call.clone())
    } else {
        let call = new_call(&mut state);
        state
            .attempts
            .insert(invocation.to_string(), (1, call.clone()));
        (1, call)
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
        let selected = match &rule.trigger {
            Trigger::FirstAttempt => attempt == 1,
            Trigger::FirstAttemptOfFirstCalls(n) => attempt == 1 && call_no <= *n,
            Trigger::EveryAttempt => true,
            Trigger::EveryNth(n) => *n > 0 && request_no % n == 0,
            Trigger::Call {
                call: selected,
                every_attempt,
            } => *selected == call && (*every_attempt || attempt == 1),
        };
        let k = state.injected[i];
        let fault = rule.faults[k % rule.faults.len()];
        if selected && fault.fits(operation) {
            state.injected[i] += 1;
            return (attempt, call, Some(fault));
        }
    }
    (attempt, call, None)
}

/// The emulator's answer to a forwarded request.
struct Answer {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// An answer without a body (to HEAD, 204, 304): its Content-Length
    /// header is passed on as it is.
    head_only: bool,
}

impl Answer {
    /// The answer re-framed for the client.
    fn render(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (k, v) in &self.headers {
            if !is_hop_by_hop(k) {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        let length = if self.head_only {
            header(&self.headers, "content-length")
                .unwrap_or("0")
                .to_string()
        } else {
            self.body.len().to_string()
        };
        out.extend_from_slice(format!("Content-Length: {length}\r\n\r\n").as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// Sends the request to the emulator on a fresh connection and returns its
/// answer.
fn forward(upstream: SocketAddr, request: &Request) -> std::io::Result<Answer> {
    let mut conn = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    write_request(&mut conn, request)?;

    let mut reader = BufReader::new(conn);
    let (status, reason) = read_status_line(&mut reader)?;
    let headers = read_headers(&mut reader)?;
    let head_only = request.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304;
    let body = if head_only {
        Vec::new()
    } else {
        read_body(&mut reader, &headers, false)?
    };
    Ok(Answer {
        status,
        reason,
        headers,
        body,
        head_only,
    })
}

/// The wire protocol of a request, which decides the shape of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson (ECR, CloudWatch Logs, KMS): `X-Amz-Target`; also REST-JSON
    /// (AWS Backup), whose errors look the same.
    Json,
    /// awsQuery (RDS, STS): `Action=` in a form body.
    Query,
    /// S3's REST-XML.
    S3,
}

fn protocol(service: &str, request: &Request) -> Protocol {
    // AWS Backup's REST-JSON errors have the awsJson shape (x-amzn-ErrorType).
    if request.header("x-amz-target").is_some() || service == "backup" {
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
        (Fault::AccessDenied, Protocol::Json) => (
            400,
            "Bad Request",
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform this \
             action (injected)",
        ),
        (Fault::AccessDenied, Protocol::Query | Protocol::S3) => (
            403,
            "Forbidden",
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/auditor is not authorized to perform this \
             action (injected)",
        ),
        (Fault::Drop | Fault::Hang | Fault::TruncatedBody | Fault::MalformedBody, _)
        | (Fault::RepeatToken | Fault::TokenCycle | Fault::TruncatedNoToken, _) => {
            unreachable!("{fault:?} is not an error answer")
        }
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

/// The AWS Backup (REST-JSON) operation of a request, from its method and
/// path; one it does not recognise is named `backup METHOD /path`, which
/// no test mistakes for a read.
fn backup_operation(method: &str, target: &str) -> String {
    let path = target.split('?').next().unwrap_or(target);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = match (method, segments.as_slice()) {
        ("GET", ["backup", "plans"]) => "ListBackupPlans",
        ("GET", ["backup", "plans", _]) => "GetBackupPlan",
        ("GET", ["backup", "plans", _, "selections"]) => "ListBackupSelections",
        ("GET", ["backup", "plans", _, "selections", _]) => "GetBackupSelection",
        ("GET", ["backup-vaults"]) => "ListBackupVaults",
        ("GET", ["backup-vaults", _]) => "DescribeBackupVault",
        ("GET", ["backup-vaults", _, "recovery-points", _]) => "DescribeRecoveryPoint",
        ("GET", ["resources"]) => "ListProtectedResources",
        ("GET", ["resources", _, "recovery-points"]) => "ListRecoveryPointsByResource",
        ("GET", ["resources", _, "restore-jobs"]) => "ListRestoreJobsByProtectedResource",
        ("GET", ["backup-jobs"]) => "ListBackupJobs",
        ("GET", ["copy-jobs"]) => "ListCopyJobs",
        _ => "",
    };
    if name.is_empty() {
        format!("backup {method} {path}")
    } else {
        name.to_string()
    }
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
