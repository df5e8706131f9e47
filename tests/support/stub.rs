//! A loopback stand-in for AWS: canned answers in AWS's wire format for
//! what the emulator cannot produce, everything else forwarded to it.

use std::collections::BTreeMap;

/// One request a [`Stub`] received: its method and path (with the query
/// string; REST protocols such as S3 name the operation there), its
/// `X-Amz-Target` (JSON protocols; absent for the query protocol) and body.
#[derive(Debug, Clone)]
pub struct StubRequest {
    pub method: String,
    pub path: String,
    pub target: Option<String>,
    /// The `Authorization` header (SigV4: names the signing region).
    pub authorization: Option<String>,
    pub body: String,
}

/// A canned answer with headers of its own (e.g. S3's
/// `x-amz-bucket-region`).
#[derive(Debug, Clone)]
pub struct StubResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl StubRequest {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// The region the request was signed for (SigV4 credential scope
    /// `KEY/DATE/REGION/SERVICE/aws4_request`).
    pub fn signing_region(&self) -> Option<String> {
        let scope = self.authorization.as_deref()?.split("Credential=").nth(1)?;
        scope.split('/').nth(2).map(str::to_string)
    }

    /// The service the request was signed for (SigV4 credential scope
    /// `KEY/DATE/REGION/SERVICE/aws4_request`): tells REST APIs apart.
    pub fn signing_service(&self) -> Option<String> {
        let scope = self.authorization.as_deref()?.split("Credential=").nth(1)?;
        scope.split('/').nth(3).map(str::to_string)
    }

    /// The parameters of a query-protocol request (`Action=...&...`).
    pub fn form(&self) -> BTreeMap<String, String> {
        self.body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (url_decode(k), url_decode(v)))
            .collect()
    }
}

type StubAnswer = dyn Fn(&StubRequest) -> Option<StubResponse> + Send + Sync;

/// A loopback stand-in for AWS: `answer` answers a request (JSON protocols
/// by `X-Amz-Target`, `application/x-amz-json-1.1`; the query protocol by
/// its form, `text/xml`) or returns `None`: the request is then forwarded
/// unchanged to `upstream` (the emulator), or answered as an unknown
/// operation without one. AWS Backup's listings that the emulator lacks are
/// answered first as for an account without AWS Backup
/// ([`aws_backup_unused`]). Keeps every request. Its threads serve until
/// the test process ends.
pub struct Stub {
    pub endpoint: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<StubRequest>>>,
}

impl Stub {
    pub fn start(
        upstream: Option<String>,
        answer: impl Fn(&StubRequest) -> Option<(u16, String)> + Send + Sync + 'static,
    ) -> Stub {
        Stub::start_with_headers(upstream, move |request| {
            aws_backup_unused(request)
                .or_else(|| answer(request))
                .map(|(status, body)| StubResponse {
                    status,
                    headers: Vec::new(),
                    body,
                })
        })
    }

    /// A stand-in that answers every request itself, AWS Backup's
    /// listings included (unlike [`Stub::start`]).
    pub fn start_canned(
        answer: impl Fn(&StubRequest) -> (u16, String) + Send + Sync + 'static,
    ) -> Stub {
        Stub::start_with_headers(None, move |request| {
            let (status, body) = answer(request);
            Some(StubResponse {
                status,
                headers: Vec::new(),
                body,
            })
        })
    }

    /// [`Stub::start`] with answers that carry headers.
    pub fn start_with_headers(
        upstream: Option<String>,
        answer: impl Fn(&StubRequest) -> Option<StubResponse> + Send + Sync + 'static,
    ) -> Stub {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        let answer: std::sync::Arc<StubAnswer> = std::sync::Arc::new(answer);
        let upstream = upstream.map(|u| u.trim_start_matches("http://").to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (log, answer, upstream) = (log.clone(), answer.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    loop {
                        let mut head = Vec::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" && !head.is_empty() {
                                break;
                            }
                            head.push(line);
                        }
                        let header = |name: &str| {
                            head.iter().find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                            })
                        };
                        let length: usize =
                            header("content-length").map_or(0, |v| v.parse().unwrap());
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).unwrap();
                        let mut request_line = head[0].split_whitespace();
                        let request = StubRequest {
                            method: request_line.next().unwrap_or_default().to_string(),
                            path: request_line.next().unwrap_or_default().to_string(),
                            target: header("x-amz-target"),
                            authorization: header("authorization"),
                            body: String::from_utf8_lossy(&body).into_owned(),
                        };
                        log.lock().unwrap().push(request.clone());
                        let content_type = if request.target.is_some() {
                            "application/x-amz-json-1.1"
                        } else {
                            "text/xml"
                        };
                        let (status, extra, text) = match (answer(&request), &upstream) {
                            (Some(answer), _) => (answer.status, answer.headers, answer.body),
                            // Forwarded below.
                            (None, Some(_)) => (0, Vec::new(), String::new()),
                            (None, None) => (400, Vec::new(), unknown_operation(&request)),
                        };
                        let stream = reader.get_mut();
                        if status == 0 {
                            // Forward as received (the signature stays
                            // valid: Host and signed headers are unchanged).
                            let upstream = upstream.as_deref().unwrap();
                            let mut up = std::net::TcpStream::connect(upstream).unwrap();
                            let mut raw: String = head
                                .iter()
                                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                                .map(String::as_str)
                                .collect();
                            raw.push_str("Connection: close\r\n\r\n");
                            up.write_all(raw.as_bytes()).unwrap();
                            up.write_all(&body).unwrap();
                            let mut response = Vec::new();
                            up.read_to_end(&mut response).unwrap();
                            let _ = stream.write_all(&response);
                            return;
                        }
                        let extra: String =
                            extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                        let head = format!(
                            "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\n{extra}content-length: {}\r\n\r\n",
                            if status == 200 { "OK" } else { "Bad Request" },
                            text.len()
                        );
                        if stream.write_all(head.as_bytes()).is_err()
                            || stream.write_all(text.as_bytes()).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Stub { endpoint, requests }
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The parameters of every query-protocol request received.
    pub fn forms(&self) -> Vec<BTreeMap<String, String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.target.is_none())
            .map(StubRequest::form)
            .collect()
    }

    pub fn requests_to(&self, target: &str) -> Vec<StubRequest> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.target.as_deref() == Some(target))
            .cloned()
            .collect()
    }
}

/// moto 5.1.22 does not implement AWS Backup `ListProtectedResources`
/// (HTTP 404), `ListCopyJobs`, `ListBackupJobs` or `DescribeRecoveryPoint`:
/// the answers AWS gives an account that has never used AWS Backup (empty
/// lists, no such recovery point; REST-JSON), for stand-ins in front of
/// moto. Other requests: `None`.
pub fn aws_backup_unused(request: &StubRequest) -> Option<(u16, String)> {
    if request.method != "GET" || request.signing_service().as_deref() != Some("backup") {
        return None;
    }
    let route = request.path.split('?').next().unwrap_or_default();
    let body = match route {
        "/resources" => r#"{"Results":[]}"#,
        "/copy-jobs" => r#"{"CopyJobs":[]}"#,
        "/backup-jobs" => r#"{"BackupJobs":[]}"#,
        // DescribeRecoveryPoint: /backup-vaults/{name}/recovery-points/{arn}
        // (reached only when a copy job is listed, which none is here).
        r if r.starts_with("/backup-vaults/") && r.contains("/recovery-points/") => {
            return Some((
                404,
                r#"{"__type":"ResourceNotFoundException","message":"Recovery point not found"}"#
                    .to_string(),
            ));
        }
        _ => return None,
    };
    Some((200, body.to_string()))
}

/// An "unknown operation" error in the request's protocol.
fn unknown_operation(request: &StubRequest) -> String {
    match &request.target {
        Some(target) => {
            format!(r#"{{"__type":"UnknownOperationException","message":"not canned: {target}"}}"#)
        }
        None => format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
             <Message>not canned: {}</Message></Error><RequestId>0</RequestId></ErrorResponse>",
            request.form().get("Action").cloned().unwrap_or_default()
        ),
    }
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
