//! Reading HTTP/1.1 messages, just enough for the AWS SDK's requests and
//! the emulator's answers: shared by the fault-injecting proxy and the
//! latency replay server of `bench/latency` (`examples/latency_replay.rs`).

use std::io::{BufRead, Write};

/// One parsed HTTP request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path and query string.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// Reads one request (head and body); `None` at a clean end of stream.
/// Answers `Expect: 100-continue` itself.
pub fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
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

/// A header's value, its name in any case.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads a response's status line: its status code and reason phrase.
pub fn read_status_line(reader: &mut impl BufRead) -> std::io::Result<(u16, String)> {
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
    Ok((status, reason))
}

/// Reads header lines up to the empty line that ends them.
pub fn read_headers(reader: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
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
pub fn read_body(
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

/// Hop-by-hop headers, which a proxy does not pass on (it frames each
/// message itself).
pub fn is_hop_by_hop(name: &str) -> bool {
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

/// Sends a request on its own connection (`Connection: close`), framed by
/// its Content-Length.
pub fn write_request(conn: &mut impl Write, request: &Request) -> std::io::Result<()> {
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
    conn.write_all(&out)
}
