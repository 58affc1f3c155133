//! A tiny HTTP/1.1 server on 127.0.0.1 for the download tests; it stops by itself
//! after a set number of requests or a few seconds.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the server sends for one path.
pub(crate) enum Reply {
    /// 200 with this body.
    Ok(Vec<u8>),
    /// 200 announcing a Content-Length larger than the body, then closing.
    Truncated(Vec<u8>),
}

/// A running test server.
pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) base: String,
    requests: Arc<AtomicUsize>,
}

impl TestServer {
    /// Requests served so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves `routes` (path → reply; anything else is a 404) for at most
/// `max_requests` requests and at most ten seconds.
pub(crate) fn serve(routes: Vec<(String, Reply)>, max_requests: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback port available");
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while counter.load(Ordering::SeqCst) < max_requests && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    // A client hanging up early is the client's problem, not the test's.
                    let _ = answer(stream, &routes);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    TestServer { base, requests }
}

fn answer(mut stream: TcpStream, routes: &[(String, Reply)]) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let reply = routes.iter().find(|(p, _)| p == path).map(|(_, r)| r);
    let (status, body, claimed) = match reply {
        Some(Reply::Ok(body)) => ("200 OK", body.as_slice(), body.len()),
        Some(Reply::Truncated(body)) => ("200 OK", body.as_slice(), body.len() + 100),
        None => ("404 Not Found", &b"not here"[..], 8),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {claimed}\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )?;
    stream.write_all(body)?;
    stream.flush()
}
