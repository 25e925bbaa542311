//! A tiny blocking HTTP/1.1 client on `std::net::TcpStream`, enough for the v1 executor API:
//! a POST whose answer has a `Content-Length`, and a POST whose answer is an endless chunked
//! stream. The executor runs inside node images without TLS or proxies, so nothing more is
//! needed (and no async runtime is started in every executor).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response head and (for non-streaming calls) its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Lowercased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn request(endpoint: &str, path: &str, body: &[u8], stream: bool) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if stream { "keep-alive" } else { "close" }
    )
}

fn connect(endpoint: &str, timeout: Duration) -> std::io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let addr = endpoint
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{endpoint} resolves to nothing")))?;
    let s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_nodelay(true)?;
    Ok(s)
}

fn read_head(r: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other(
                "connection closed inside the response head",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// POSTs `body` to `http://endpoint/path` and reads the whole answer.
pub fn post(
    endpoint: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Response> {
    let mut s = connect(endpoint, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    let mut req = request(endpoint, path, body, false).into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req)?;
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?;
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut c = Chunked::new(r);
        c.read_to_end(&mut resp.body)?;
    } else if let Some(len) = resp
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        resp.body.resize(len, 0);
        r.read_exact(&mut resp.body)?;
    }
    Ok(resp)
}

/// POSTs `body` and returns the response head with a reader of the (de-chunked) body
/// stream. A non-200 answer's body is read into the response.
pub fn post_stream(
    endpoint: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<(Response, Chunked<BufReader<TcpStream>>)> {
    let mut s = connect(endpoint, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    let mut req = request(endpoint, path, body, true).into_bytes();
    req.extend_from_slice(body);
    s.write_all(&req)?;
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r)?;
    let resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    Ok((resp, Chunked::new(r)))
}

/// Reads the payload of a chunked body.
pub struct Chunked<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Chunked<R> {
    pub fn new(inner: R) -> Self {
        Chunked {
            inner,
            left: 0,
            done: false,
        }
    }

    /// The underlying reader (to change its timeout).
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                self.done = true;
                return Ok(0);
            }
            if line.trim().is_empty() {
                // The CRLF after the previous chunk.
                line.clear();
                if self.inner.read_line(&mut line)? == 0 {
                    self.done = true;
                    return Ok(0);
                }
            }
            let size = line.trim().split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.left);
        let got = self.inner.read(&mut buf[..n])?;
        if got == 0 {
            self.done = true;
            return Ok(0);
        }
        self.left -= got;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked::new(&raw[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello, world");
    }

    #[test]
    fn post_reads_status_headers_and_body() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            req
        });
        let resp = post(&addr, "/api/v1/executor", b"{}", Duration::from_secs(5)).unwrap();
        assert_eq!((resp.status, resp.body.as_slice()), (202, &b"ok"[..]));
        let req = server.join().unwrap();
        assert!(
            req.starts_with("POST /api/v1/executor HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(req.contains("Content-Type: application/json\r\n") && req.ends_with("\r\n\r\n{}"));
    }
}
