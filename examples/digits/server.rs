//! The page and `POST /predict`, answered by a few threads that share one trained
//! network: inference is on `&self`, each thread has its own scratch, nothing is locked.
//!
//! tiny_http: a blocking server whose threads each take the next request, which is
//! exactly this shape (a thread, its scratch, a loop) without an async runtime.

use std::io::Read;
use std::path::Path;

use backprop::Network;
use backprop::ndarray::Array2;
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

/// The page: plain HTML, CSS and JavaScript, no files from outside.
const PAGE: &str = include_str!("page.html");
/// The pixels of one image, 28 × 28.
const PIXELS: usize = 784;
/// The largest body read: 784 numbers written with 17 digits each take about 15 KB.
const MAX_BODY: usize = 64 * 1024;

/// Serves `net` on 127.0.0.1:`port` with `threads` threads, until the process ends.
pub fn serve<N: Network<f32>>(
    net: &N,
    name: &str,
    model: &Path,
    port: u16,
    threads: usize,
) -> Result<(), String> {
    let server = Server::http(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (--port chooses another)"))?;
    let address = server
        .server_addr()
        .to_ip()
        .ok_or("the server listens on no IP address")?;
    println!(
        "serving {name} from {} on http://{address} ({threads} threads); Ctrl-C stops",
        model.display()
    );
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| answer_requests(net, &server));
        }
    });
    Ok(())
}

/// One thread's loop: its own scratch, the shared network.
fn answer_requests<N: Network<f32>>(net: &N, server: &Server) {
    let mut scratch = N::Scratch::default();
    let mut image = Array2::<f32>::zeros((1, PIXELS));
    while let Ok(mut request) = server.recv() {
        let response = answer(net, &mut scratch, &mut image, &mut request);
        // A client that hung up needs no answer; the thread serves the next one.
        let _ = request.respond(response);
    }
}

fn answer<N: Network<f32>>(
    net: &N,
    scratch: &mut N::Scratch,
    image: &mut Array2<f32>,
    request: &mut Request,
) -> Response<std::io::Cursor<Vec<u8>>> {
    match (request.method(), request.url()) {
        (Method::Get, "/") => reply(200, "text/html; charset=utf-8", PAGE.into()),
        (Method::Post, "/predict") => match read_pixels(request, image) {
            Ok(()) => {
                let scores = net.infer(image.view(), scratch);
                let probabilities = softmax(scores.iter().copied());
                let digit = (0..probabilities.len())
                    .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
                    .unwrap_or(0);
                let body = json!({ "digit": digit, "probabilities": probabilities });
                reply(200, "application/json", body.to_string())
            }
            Err((status, message)) => error(status, &message),
        },
        (_, "/") => error(405, "only GET / is served here"),
        (_, "/predict") => error(405, "expected POST /predict with 784 numbers as JSON"),
        (_, url) => error(
            404,
            &format!("no page {url}: the page is /, the API POST /predict"),
        ),
    }
}

/// Reads the body into `image`, or says with a status what is wrong with it.
fn read_pixels(request: &mut Request, image: &mut Array2<f32>) -> Result<(), (u16, String)> {
    let too_large = |found: &str| {
        let message = format!("the body is {found} bytes; at most {MAX_BODY} are read");
        (413, message)
    };
    if let Some(length) = request.body_length().filter(|&n| n > MAX_BODY) {
        return Err(too_large(&length.to_string()));
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    read.map_err(|e| (400, format!("the body could not be read: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(too_large("more than that"));
    }
    let pixels = parse_pixels(&body).map_err(|message| (400, message))?;
    image.iter_mut().zip(pixels).for_each(|(x, p)| *x = p);
    Ok(())
}

/// The 784 pixels of a JSON array of numbers in [0, 1].
fn parse_pixels(body: &[u8]) -> Result<Vec<f32>, String> {
    let expected = "expected a JSON array of 784 numbers in [0, 1] (28 × 28 pixels, row by row)";
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "{expected}, found a body that is not JSON ({e}; NaN and Infinity are not JSON numbers)"
        )
    })?;
    let Value::Array(items) = value else {
        return Err(format!("{expected}, found {}", kind(&value)));
    };
    if items.len() != PIXELS {
        return Err(format!("{expected}, found {} values", items.len()));
    }
    let mut pixels = Vec::with_capacity(PIXELS);
    for (index, item) in items.iter().enumerate() {
        match item.as_f64() {
            Some(v) if (0.0..=1.0).contains(&v) => pixels.push(v as f32),
            Some(v) => {
                return Err(format!(
                    "pixel {index}: expected a number in [0, 1], found {v}"
                ));
            }
            None => {
                let found = kind(item);
                return Err(format!(
                    "pixel {index}: expected a number in [0, 1], found {found}"
                ));
            }
        }
    }
    Ok(pixels)
}

/// What a JSON value is, for a message.
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() <= 20 => format!("the string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Array(items) => format!("an array of {} values", items.len()),
        Value::Object(_) => "an object".into(),
    }
}

fn softmax(scores: impl Iterator<Item = f32> + Clone) -> Vec<f64> {
    let max = scores.clone().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exp: Vec<f64> = scores.map(|s| (s as f64 - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

fn error(status: u16, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    reply(
        status,
        "application/json",
        json!({ "error": message }).to_string(),
    )
}

fn reply(status: u16, content_type: &str, body: String) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes("Content-Type", content_type)
        .expect("a content type is a valid header value");
    Response::from_data(body.into_bytes())
        .with_status_code(status)
        .with_header(header)
}
