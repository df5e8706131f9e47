//! Reading HTTP/1.1 messages, just enough for the AWS SDK's requests and
//! the emulator's answers: shared by the fault-injecting proxy and the
//! latency replay server of `bench/latency` (`examples/latency_replay.rs`).

use std::io::BufRead;

/// A header's value, its name in any case.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
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
