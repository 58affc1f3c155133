//! The digits example on loopback: its answers for good and bad requests, a bounded
//! load with every answer checked against the network run in this process, and (with
//! MNIST and Chromium) a real browser drawing a "1" and a "7" on its page.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backprop::model_file::{self, Overwrite};
use backprop::prelude::*;
use backprop::rand::SeedableRng;
use backprop::rand::rngs::StdRng;
use rand_distr::{Distribution, Uniform};
use serde_json::{Value, json};

#[path = "../examples/common/book_nets.rs"]
mod book_nets;
#[path = "common/example_binary.rs"]
mod example_binary;

use book_nets::{SimpleConvNet, TwoLayerNet};
use example_binary::example;

/// A running digits server, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(model: &Path, net: &str) -> Server {
        let mut child = Command::new(example("digits"))
            .args(["--port", "0", "--threads", "2", "--net", net, "--model"])
            .arg(model)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let start = line
            .find("http://")
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let url = line[start..].split_whitespace().next().unwrap().to_owned();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The status and JSON body of `POST /predict` with `body`.
fn predict(agent: &ureq::Agent, server: &Server, body: &str) -> (u16, Value) {
    let mut response = agent
        .post(format!("{}/predict", server.url))
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, value)
}

fn random_images(count: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    let unit = Uniform::new_inclusive(0.0_f32, 1.0).unwrap();
    (0..count)
        .map(|_| (0..784).map(|_| unit.sample(&mut *rng)).collect())
        .collect()
}

/// What the network in this process says of `image`: the digit and the probabilities.
fn expected<N: Network<f32>>(net: &N, image: &[f32]) -> (usize, Vec<f32>) {
    let x = backprop::ndarray::Array2::from_shape_vec((1, 784), image.to_vec()).unwrap();
    let mut scratch = N::Scratch::default();
    let scores = net.infer(x.view(), &mut scratch);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    let probabilities: Vec<f32> = exp.iter().map(|e| e / sum).collect();
    let digit = (0..10)
        .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
        .unwrap();
    (digit, probabilities)
}

/// Whether an answer is the digit and probabilities expected.
fn agrees(answer: &Value, (digit, probabilities): &(usize, Vec<f32>)) -> bool {
    let got: Vec<f64> = answer["probabilities"]
        .as_array()
        .map(|ps| ps.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    answer["digit"] == json!(digit)
        && got.len() == 10
        && got
            .iter()
            .zip(probabilities)
            .all(|(g, &p)| (g - p as f64).abs() < 1e-5)
}

fn save_random<N: Network<f32>>(net: &mut N, dir: &Path, rng: &mut StdRng) -> PathBuf {
    // Weights larger than the book's 0.01, so that images are told apart.
    net.visit_parameters_mut(&mut |mut p| {
        let normal = rand_distr::Normal::new(0.0, 0.1).unwrap();
        p.value
            .iter_mut()
            .for_each(|v| *v = normal.sample(&mut *rng));
    });
    let path = dir.join("model.safetensors");
    model_file::save(net, &path, Overwrite::Never).unwrap();
    path
}

#[test]
fn good_requests_get_the_networks_probabilities_and_bad_ones_a_4xx_naming_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = TwoLayerNet::<f32>::new(&mut rng);
    let model = save_random(&mut net, dir.path(), &mut rng);
    let server = Server::start(&model, "dense");
    let agent = agent();
    let images = random_images(3, &mut rng);
    let good = |image: &Vec<f32>| serde_json::to_string(image).unwrap();

    let (status, answer) = predict(&agent, &server, &good(&images[0]));
    assert_eq!(status, 200, "{answer}");
    assert!(agrees(&answer, &expected(&net, &images[0])), "{answer}");

    let mut short = images[1].clone();
    short.pop();
    let mut string = serde_json::to_value(&images[1]).unwrap();
    string[100] = json!("0.5");
    let mut out_of_range = images[1].clone();
    out_of_range[7] = 1.5;
    let bad = [
        (good(&short), 400, "found 783 values"),
        (
            string.to_string(),
            400,
            "pixel 100: expected a number in [0, 1], found the string \"0.5\"",
        ),
        (
            good(&out_of_range),
            400,
            "pixel 7: expected a number in [0, 1], found 1.5",
        ),
        ("[NaN]".to_owned(), 400, "not JSON"),
        ("{\"pixels\": []}".to_owned(), 400, "found an object"),
        ("".to_owned(), 400, "not JSON"),
        ("[".repeat(70_000), 413, "at most 65536"),
    ];
    for (body, status, message) in bad {
        let (got, answer) = predict(&agent, &server, &body);
        let error = answer["error"].as_str().unwrap_or_default();
        assert_eq!(got, status, "{error}");
        assert!(
            error.contains(message),
            "{error:?} should contain {message:?}"
        );
        if status == 400 {
            assert!(error.contains("expected"), "{error}");
        }
    }

    let mut page = agent.get(&server.url).call().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("<canvas id=\"pad\"") && html.contains("/predict"));
    let missing = agent.get(format!("{}/nowhere", server.url)).call().unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let wrong_method = agent.get(format!("{}/predict", server.url)).call().unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);

    // Still serving, and still right.
    let (status, answer) = predict(&agent, &server, &good(&images[2]));
    assert_eq!(status, 200, "{answer}");
    assert!(agrees(&answer, &expected(&net, &images[2])), "{answer}");
}

#[test]
fn eight_clients_of_five_hundred_requests_each_get_every_answer_right() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    let mut net = SimpleConvNet::<f32>::new(&mut rng);
    let model = save_random(&mut net, dir.path(), &mut rng);
    let server = Server::start(&model, "convnet");
    let images = random_images(64, &mut rng);
    let answers: Vec<_> = images.iter().map(|image| expected(&net, image)).collect();
    let bodies: Vec<String> = images
        .iter()
        .map(|image| serde_json::to_string(image).unwrap())
        .collect();
    let (clients, requests) = (8, 500);
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let (server, bodies, answers) = (&server, &bodies, &answers);
                scope.spawn(move || {
                    let agent = agent();
                    let mut latencies = Vec::with_capacity(requests);
                    for request in 0..requests {
                        let i = (client * 7 + request) % bodies.len();
                        let started = Instant::now();
                        let (status, answer) = predict(&agent, server, &bodies[i]);
                        latencies.push(started.elapsed());
                        assert_eq!(status, 200, "client {client}, request {request}: {answer}");
                        assert!(
                            agrees(&answer, &answers[i]),
                            "client {client}, request {request}: {answer}"
                        );
                    }
                    latencies
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert_eq!(latencies.len(), clients * requests);
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    eprintln!(
        "{} requests from {clients} clients, all right: median {:.2} ms, 99th percentile {:.2} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
}

/// A WebDriver session on headless Chromium, ended when dropped.
struct Browser {
    driver: Child,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let chromedriver =
            std::env::var("BACKPROP_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let mut browser = Browser {
            driver,
            session: format!("http://127.0.0.1:{port}/session"),
            agent: agent(),
        };
        let started = Instant::now();
        while browser
            .agent
            .get(format!("http://127.0.0.1:{port}/status"))
            .call()
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let chromium =
            std::env::var("BACKPROP_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,620"],
            },
        }}});
        let created = browser.call("POST", "", capabilities);
        let id = created["sessionId"].as_str().expect("a session id");
        browser.session = format!("{}/{id}", browser.session);
        browser
    }

    /// A WebDriver command: its `value`.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session);
        let response = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send(body.to_string()),
        };
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(status, 200, "WebDriver {method} {path}: {text}");
        value["value"].clone()
    }

    fn element(&self, css: &str) -> Value {
        let found = self.call(
            "POST",
            "/element",
            json!({ "using": "css selector", "value": css }),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap()
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    /// Draws a stroke through `points`, offsets from the canvas's centre, with the mouse.
    fn stroke(&self, canvas: &Value, points: &[(f64, f64)]) {
        let origin = json!({ "element-6066-11e4-a52e-4f735466cecf": canvas });
        let at = |(x, y): (f64, f64)| json!({ "type": "pointerMove", "duration": 0, "origin": origin, "x": x as i64, "y": y as i64 });
        let mut actions = vec![at(points[0]), json!({ "type": "pointerDown", "button": 0 })];
        for pair in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let steps = ((x1 - x0).hypot(y1 - y0) / 8.0).ceil().max(1.0) as usize;
            for step in 1..=steps {
                let t = step as f64 / steps as f64;
                actions.push(at((x0 + t * (x1 - x0), y0 + t * (y1 - y0))));
            }
        }
        actions.push(json!({ "type": "pointerUp", "button": 0 }));
        let pen = json!({ "type": "pointer", "id": "pen", "parameters": { "pointerType": "mouse" }, "actions": actions });
        self.call("POST", "/actions", json!({ "actions": [pen] }));
    }

    /// The digit the page shows once its last request has been answered.
    fn read_digit(&self) -> String {
        let started = Instant::now();
        loop {
            let state = self.script(
                "return [document.body.dataset.busy, document.getElementById('digit').textContent, document.getElementById('status').textContent]",
            );
            let (busy, digit, status) = (&state[0], &state[1], &state[2]);
            assert_eq!(status, "", "the page reports a problem");
            if busy == "false" && digit != "" {
                return digit.as_str().unwrap().to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no answer: {state}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.session).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
#[ignore = "needs MNIST and Chromium: run with MNIST_DIR=<folder with the four IDX files>, chromium and chromedriver installed (Debian's chromium, chromium-driver) and --ignored"]
fn a_browser_draws_a_one_and_a_seven_and_the_page_reads_them() {
    let data =
        PathBuf::from(std::env::var_os("MNIST_DIR").expect("MNIST_DIR must name the MNIST folder"));
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("convnet.safetensors");
    let trained = Command::new(example("simple_convnet"))
        .args(["--epochs", "1", "--seed", "1", "--quiet", "--data"])
        .arg(&data)
        .arg("--save")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );

    let server = Server::start(&model, "convnet");
    let browser = Browser::start();
    browser.call("POST", "/url", json!({ "url": server.url }));
    let canvas = browser.element("#pad");
    let clear = browser.element("#clear");
    let element_id = clear.as_str().unwrap();

    browser.stroke(&canvas, &[(5.0, -95.0), (-5.0, 95.0)]);
    assert_eq!(browser.read_digit(), "1");

    browser.call("POST", &format!("/element/{element_id}/click"), json!({}));
    assert_eq!(
        browser.script("return document.getElementById('digit').textContent"),
        ""
    );
    browser.stroke(&canvas, &[(-65.0, -85.0), (65.0, -85.0), (-10.0, 95.0)]);
    assert_eq!(browser.read_digit(), "7");

    let screenshot = browser.call("GET", "/screenshot", json!({}));
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        screenshot.as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("digits-page.png");
    std::fs::write(&path, png).unwrap();
    eprintln!("the page after drawing a 7: {}", path.display());
}
