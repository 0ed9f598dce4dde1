//! The embedded image host, seen from outside: plain `std::net::TcpStream`
//! clients (and `ureq` once) talk to a real server on 127.0.0.1.
//!
//! Every test runs under a real-time watchdog. Timing is checked only as a
//! lower bound (a response never comes before its latency) and concurrency by
//! the host's own count of overlapping requests, never by wall time.

mod common;
mod pipeline_common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::watchdog;
use evloop::pipeline::host::{self, ImageHost, ImageHostBuilder};
use evloop::pipeline::photo_cache::cache_name;
use evloop::pipeline::synth;
use pipeline_common::TempDir;

/// The real-time limit of one test.
const LIMIT: Duration = Duration::from_secs(30);

/// How long a client waits for any one read before it gives up.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A host with small pictures that answers at once.
fn small() -> ImageHostBuilder {
    ImageHost::builder().size(64, 48).latency(Duration::ZERO)
}

/// A response as the client saw it.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> usize {
        self.header("content-length")
            .expect("every response has a Content-Length")
            .parse()
            .expect("Content-Length is a number")
    }
}

/// A client connection with a buffered reader over it.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(host: &ImageHost) -> Client {
        let stream = TcpStream::connect(host.addr()).expect("the host accepts connections");
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        Client {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .expect("the request is sent");
    }

    fn get(&mut self, path: &str) -> Reply {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        self.reply(true)
    }

    /// Reads one response; `with_body` is false after a HEAD request.
    fn reply(&mut self, with_body: bool) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let mut parts = line.trim_end().splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {line:?}");
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header is name: value");
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        if with_body {
            reply.body = vec![0; reply.content_length()];
            self.reader
                .read_exact(&mut reply.body)
                .expect("the whole body");
        }
        reply
    }

    /// Asserts that the server closes the connection: EOF, with nothing more.
    fn assert_closed(&mut self) {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(
                rest.is_empty(),
                "unexpected bytes after the response: {rest:?}"
            ),
            // A reset is a close too, and no more data.
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
}

#[test]
fn serves_each_image_with_its_exact_bytes_and_length() {
    watchdog(LIMIT, || {
        let host = small().images(3).build().unwrap();
        let mut client = Client::connect(&host);
        for k in 1..=3 {
            let reply = client.get(&format!("/image_{k}.jpg"));
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("content-type"), Some("image/jpeg"));
            assert_eq!(reply.content_length(), host.image(k).unwrap().len());
            assert_eq!(reply.body, host.image(k).unwrap());
            assert_eq!(reply.body, synth::photo_jpeg(k, 64, 48));
        }
        assert_eq!(host.image_requests(), 3);
    });
}

#[test]
fn the_query_string_is_ignored() {
    watchdog(LIMIT, || {
        let host = small().images(2).build().unwrap();
        let mut client = Client::connect(&host);
        let reply = client.get("/image_2.jpg?ts=1234567.89&x=/../y");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, host.image(2).unwrap());
    });
}

#[test]
fn anything_but_an_image_path_is_not_found() {
    watchdog(LIMIT, || {
        let host = small().images(12).build().unwrap();
        let mut client = Client::connect(&host);
        let paths = [
            "/image_0.jpg",
            "/image_13.jpg",
            "/image_1.png",
            "/../etc/passwd",
            "/image_1.jpg/..",
            "/image_01.jpg",
            "/image_%31.jpg",
            "/image_99999999999999999999.jpg",
            "/",
            "/etc/passwd",
        ];
        for path in paths {
            let reply = client.get(path);
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(reply.body, b"not found\n", "{path}");
            assert_eq!(reply.header("connection"), Some("keep-alive"), "{path}");
        }
        // The connection survived every 404.
        assert_eq!(client.get("/image_12.jpg").status, 200);
        assert_eq!(host.connections_accepted(), 1);
        assert_eq!(host.image_requests(), 1);
    });
}

#[test]
fn head_sends_the_length_but_no_body() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();
        let mut client = Client::connect(&host);
        client.send(b"HEAD /image_1.jpg HTTP/1.1\r\nHost: test\r\n\r\n");
        let reply = client.reply(false);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_length(), host.image(1).unwrap().len());
        // Had a body been sent, this would read image bytes, not a status line.
        assert_eq!(client.get("/image_1.jpg").body, host.image(1).unwrap());
    });
}

#[test]
fn other_methods_get_405_and_the_connection_lives_on() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();
        let mut client = Client::connect(&host);
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            client.send(
                format!(
                    "{method} /image_1.jpg HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            );
            let reply = client.reply(true);
            assert_eq!(reply.status, 405, "{method}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        }
        assert_eq!(client.get("/image_1.jpg").status, 200);
        assert_eq!(host.connections_accepted(), 1);
    });
}

#[test]
fn a_request_with_a_body_is_refused_and_the_connection_closed() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();

        let mut client = Client::connect(&host);
        client.send(b"POST /image_1.jpg HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello");
        let reply = client.reply(true);
        assert_eq!(
            (reply.status, reply.header("connection")),
            (405, Some("close"))
        );
        client.assert_closed();

        let mut client = Client::connect(&host);
        client.send(b"GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        let reply = client.reply(true);
        assert_eq!(
            (reply.status, reply.header("connection")),
            (400, Some("close"))
        );
        client.assert_closed();
    });
}

#[test]
fn garbage_gets_400_and_a_close() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();
        for garbage in [
            &b"hello, server\r\n\r\n"[..],
            b"GET /image_1.jpg HTTP/9.9\r\n\r\n",
            b"GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nno colon here\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", // a TLS hello, roughly
            b"GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nContent-Length: lots\r\n\r\n",
            // HTTP/1.1 requires a Host (RFC 9112, 3.2).
            b"GET /image_1.jpg HTTP/1.1\r\n\r\n",
        ] {
            let mut client = Client::connect(&host);
            client.send(garbage);
            let reply = client.reply(true);
            assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(garbage));
            assert_eq!(reply.header("connection"), Some("close"));
            client.assert_closed();
        }
    });
}

#[test]
fn an_oversized_head_is_refused_and_the_connection_closed() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();

        // One huge header, never finished: refused once 8 KiB have come in.
        let mut client = Client::connect(&host);
        let huge = format!(
            "GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nX-Filler: {}",
            "a".repeat(9000)
        );
        client.send(huge.as_bytes());
        let reply = client.reply(true);
        assert_eq!(reply.status, 431);
        assert_eq!(reply.header("connection"), Some("close"));
        client.assert_closed();

        // A complete head that is too long is refused too.
        let mut client = Client::connect(&host);
        let long = format!(
            "GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nX-Filler: {}\r\n\r\n",
            "b".repeat(8200)
        );
        client.send(long.as_bytes());
        assert_eq!(client.reply(true).status, 431);
        client.assert_closed();

        // Other connections are unaffected.
        assert_eq!(Client::connect(&host).get("/image_1.jpg").status, 200);
    });
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    watchdog(LIMIT, || {
        let host = small().images(3).build().unwrap();
        let mut client = Client::connect(&host);
        for round in 0..3 {
            for k in 1..=3 {
                let reply = client.get(&format!("/image_{k}.jpg?ts={round}"));
                assert_eq!(reply.status, 200);
                assert_eq!(reply.header("connection"), Some("keep-alive"));
                assert_eq!(reply.body, host.image(k).unwrap());
            }
        }
        assert_eq!(host.connections_accepted(), 1);
        assert_eq!(host.requests_served(), 9);
    });
}

#[test]
fn ureq_reuses_one_connection_for_all_images() {
    watchdog(LIMIT, || {
        let host = small().images(4).build().unwrap();
        let agent = ureq::Agent::new_with_defaults();
        for (k, url) in (1..).zip(host.urls()) {
            let mut response = agent.get(&url).call().expect("the image downloads");
            assert_eq!(response.status(), 200);
            let body = response.body_mut().read_to_vec().unwrap();
            assert_eq!(body, host.image(k).unwrap());
        }
        assert_eq!(host.connections_accepted(), 1);
    });
}

#[test]
fn connection_close_is_honoured() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();
        let mut client = Client::connect(&host);
        client.send(b"GET /image_1.jpg HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        let reply = client.reply(true);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), Some("close"));
        assert_eq!(reply.body, host.image(1).unwrap());
        client.assert_closed();
    });
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    watchdog(LIMIT, || {
        let host = small().images(1).build().unwrap();

        let mut client = Client::connect(&host);
        client.send(b"GET /image_1.jpg HTTP/1.0\r\n\r\n");
        assert_eq!(client.reply(true).header("connection"), Some("close"));
        client.assert_closed();

        let mut client = Client::connect(&host);
        client.send(b"GET /image_1.jpg HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(client.reply(true).header("connection"), Some("keep-alive"));
        client.send(b"GET /image_1.jpg HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(client.reply(true).status, 200);
        assert_eq!(host.connections_accepted(), 2);
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    watchdog(LIMIT, || {
        let host = small()
            .images(3)
            .latency(Duration::from_millis(20))
            .build()
            .unwrap();
        let mut client = Client::connect(&host);
        // Four requests in one write; the last one asks to close.
        client.send(
            b"GET /image_3.jpg HTTP/1.1\r\nHost: test\r\n\r\n\
              GET /nothing HTTP/1.1\r\nHost: test\r\n\r\n\
              HEAD /image_2.jpg HTTP/1.1\r\nHost: test\r\n\r\n\
              GET /image_1.jpg?ts=9 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        );
        let first = client.reply(true);
        assert_eq!(
            (first.status, &first.body[..]),
            (200, host.image(3).unwrap())
        );
        assert_eq!(client.reply(true).status, 404);
        let head = client.reply(false);
        assert_eq!(head.content_length(), host.image(2).unwrap().len());
        let last = client.reply(true);
        assert_eq!((last.status, &last.body[..]), (200, host.image(1).unwrap()));
        client.assert_closed();
        assert_eq!(host.connections_accepted(), 1);
        assert_eq!(host.requests_served(), 4);
    });
}

#[test]
fn no_image_arrives_before_its_latency() {
    watchdog(LIMIT, || {
        let latency = Duration::from_millis(200);
        let host = small().images(2).latency(latency).build().unwrap();
        assert_eq!(host.latency(), latency);
        let mut client = Client::connect(&host);
        for k in [1, 2] {
            let sent = Instant::now();
            let reply = client.get(&format!("/image_{k}.jpg"));
            assert_eq!(reply.status, 200);
            assert!(
                sent.elapsed() >= latency,
                "image {k} came after {:?}",
                sent.elapsed()
            );
        }
        // Errors are not delayed, but that is not asserted (no upper bounds).
        assert_eq!(client.get("/image_3.jpg").status, 404);
    });
}

#[test]
fn concurrent_requests_wait_out_their_latency_together() {
    watchdog(LIMIT, || {
        const CLIENTS: usize = 8;
        // Long enough that every request arrives while the first still waits.
        let latency = Duration::from_secs(1);
        let host = small()
            .images(CLIENTS as u32)
            .latency(latency)
            .build()
            .unwrap();
        let mut clients: Vec<Client> = (0..CLIENTS).map(|_| Client::connect(&host)).collect();
        let mut sent = Vec::new();
        for (k, client) in (1..).zip(&mut clients) {
            sent.push(Instant::now());
            client.send(format!("GET /image_{k}.jpg HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        }
        for ((k, client), sent) in (1..).zip(&mut clients).zip(sent) {
            let reply = client.reply(true);
            assert_eq!(reply.body, host.image(k).unwrap());
            assert!(sent.elapsed() >= latency);
        }
        // Served one after another, this would be 1.
        assert_eq!(host.max_in_flight(), CLIENTS);
        assert_eq!(host.connections_accepted(), CLIENTS as u64);
    });
}

#[test]
fn idle_connections_are_closed() {
    watchdog(LIMIT, || {
        let idle = Duration::from_millis(200);
        let host = small().images(1).idle_timeout(idle).build().unwrap();

        // Silent from the start. (Each instant is taken before the event the
        // server starts its clock at, so the lower bound is sound.)
        let connecting = Instant::now();
        let mut silent = Client::connect(&host);
        silent.assert_closed();
        assert!(connecting.elapsed() >= idle);

        // Silent after one response on a kept-alive connection.
        let mut client = Client::connect(&host);
        let asked = Instant::now();
        assert_eq!(client.get("/image_1.jpg").status, 200);
        client.assert_closed();
        assert!(asked.elapsed() >= idle);

        // Half a head, then nothing (slowloris).
        let mut slow = Client::connect(&host);
        slow.send(b"GET /image_1.jpg HTTP/1.1\r\nHost: te");
        slow.assert_closed();
    });
}

#[test]
fn at_its_connection_cap_the_host_closes_the_oldest_idle_connections() {
    watchdog(LIMIT, || {
        let host = small().images(1).max_connections(4).build().unwrap();
        // Six silent connections, one after another, each accepted (and so
        // counted) before the next: the server answers each one's request.
        let mut idle: Vec<Client> = Vec::new();
        for _ in 0..6 {
            let mut client = Client::connect(&host);
            assert_eq!(client.get("/image_1.jpg").status, 200);
            idle.push(client);
        }
        // A seventh is served too.
        let mut newcomer = Client::connect(&host);
        assert_eq!(newcomer.get("/image_1.jpg").body, host.image(1).unwrap());
        // Room was made by closing the ones idle longest: the first three.
        // (Whether more went is not asserted: above three quarters of the
        // cap, idle connections get one second, and this machine may be
        // slow.)
        for client in &mut idle[..3] {
            client.assert_closed();
        }
        assert_eq!(host.connections_accepted(), 7);
    });
}

#[test]
fn a_bad_connection_never_holds_up_the_others() {
    watchdog(LIMIT, || {
        let host = small().images(2).build().unwrap();
        // One client sends half a head and waits; one sends garbage; one
        // connects and never sends anything; one sends a request and never
        // reads the answer.
        let mut half = Client::connect(&host);
        half.send(b"GET /image_1.jpg HTTP/1.1\r\nHo");
        let mut garbage = Client::connect(&host);
        garbage.send(b"\x00\x00\x00\r\n\r\n");
        let _silent = Client::connect(&host);
        let mut deaf = Client::connect(&host);
        for _ in 0..4 {
            deaf.send(b"GET /image_2.jpg HTTP/1.1\r\nHost: test\r\n\r\n");
        }
        // A good client is served meanwhile, repeatedly.
        let mut good = Client::connect(&host);
        for k in [1, 2, 1] {
            assert_eq!(
                good.get(&format!("/image_{k}.jpg")).body,
                host.image(k).unwrap()
            );
        }
        assert_eq!(garbage.reply(true).status, 400);
        // The half head can still be finished: its connection was only waiting.
        half.send(b"st: x\r\n\r\n");
        assert_eq!(half.reply(true).body, host.image(1).unwrap());
    });
}

#[test]
fn dropping_the_host_stops_the_server_and_frees_the_port() {
    watchdog(LIMIT, || {
        // A port nobody uses right now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = small().images(1).port(port).build().unwrap();
        assert_eq!(host.base_url(), format!("http://127.0.0.1:{port}"));
        assert_eq!(host.url(1), format!("http://127.0.0.1:{port}/image_1.jpg"));
        let mut kept = Client::connect(&host);
        assert_eq!(kept.get("/image_1.jpg").status, 200);
        drop(host); // returns only once the server thread has ended

        // The kept-alive connection was closed by the shutdown.
        kept.assert_closed();
        // Nothing listens any more...
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
        // ...and a second host can take the same port.
        let again = small().images(1).port(port).build().unwrap();
        assert_eq!(Client::connect(&again).get("/image_1.jpg").status, 200);
        again.shutdown().unwrap();
    });
}

#[test]
fn shutdown_cuts_off_requests_in_flight() {
    watchdog(LIMIT, || {
        let host = small()
            .images(1)
            .latency(Duration::from_secs(3600))
            .build()
            .unwrap();
        let mut waiting = Client::connect(&host);
        waiting.send(b"GET /image_1.jpg HTTP/1.1\r\nHost: test\r\n\r\n");
        // Wait until the request is inside its hour of latency.
        while host.max_in_flight() == 0 {
            thread::sleep(Duration::from_millis(5));
        }
        host.shutdown().unwrap();
        waiting.assert_closed();
    });
}

#[test]
fn bad_settings_are_errors_that_name_the_setting() {
    watchdog(LIMIT, || {
        let cases: [(ImageHostBuilder, &str); 6] = [
            (small().size(0, 48), "width 0"),
            (small().size(64, 100_000), "height 100000"),
            (small().images(1_000_000), "1000000 images"),
            (small().latency(Duration::from_secs(100_000)), "latency"),
            (small().idle_timeout(Duration::ZERO), "idle timeout"),
            (small().max_connections(0), "max_connections is 0"),
        ];
        for (builder, words) in cases {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(words), "{err}");
        }

        // A taken port is an error naming the address.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let err = small().port(port).build().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    });
}

#[test]
fn a_host_without_images_answers_404() {
    watchdog(LIMIT, || {
        let host = small().images(0).build().unwrap();
        assert_eq!(host.image_count(), 0);
        assert!(host.urls().is_empty());
        assert!(host.image(1).is_none());
        assert_eq!(Client::connect(&host).get("/image_1.jpg").status, 404);
    });
}

#[test]
fn the_host_answers_before_any_photo_is_drawn_and_draws_the_asked_one_first() {
    watchdog(LIMIT, || {
        // Without draw-ahead the background drawers draw only what is asked
        // for, so the order is the test's to see.
        let host = small().images(12).draw_ahead(false).build().unwrap();
        // Listening, and nothing drawn: `build` did not wait for a photo.
        assert_eq!(host.photos_drawn(), 0);
        let mut client = Client::connect(&host);
        let reply = client.get("/image_12.jpg");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, synth::photo_jpeg(12, 64, 48));
        // Photo 12 was drawn for the request, and it alone.
        assert_eq!(host.photos_drawn(), 1);
        assert!(host.is_drawn(12));
        assert!((1..12).all(|k| !host.is_drawn(k)), "only 12 was drawn");
        // The next request for it is served from memory: nothing is drawn twice.
        assert_eq!(client.get("/image_12.jpg").body, reply.body);
        assert_eq!(host.photos_drawn(), 1);
    });
}

#[test]
fn requests_racing_the_drawers_get_every_photo_drawn_once() {
    watchdog(LIMIT, || {
        const IMAGES: u32 = 24;
        // Draw-ahead on: the background drawers and the requests race for
        // the same photos, from the last one backwards.
        let host = ImageHost::builder()
            .images(IMAGES)
            .size(320, 180)
            .latency(Duration::ZERO)
            .build()
            .unwrap();
        let mut clients: Vec<Client> = (0..IMAGES).map(|_| Client::connect(&host)).collect();
        for (k, client) in (1..=IMAGES).rev().zip(&mut clients) {
            client.send(format!("GET /image_{k}.jpg HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        }
        for (k, client) in (1..=IMAGES).rev().zip(&mut clients) {
            let reply = client.reply(true);
            assert_eq!(reply.status, 200, "image {k}");
            assert_eq!(reply.body, synth::photo_jpeg(k, 320, 180), "image {k}");
        }
        assert_eq!(
            host.photos_drawn(),
            u64::from(IMAGES),
            "each photo drawn exactly once"
        );
    });
}

/// A host of `images` small photos keeping its cache in `dir`.
fn cached(images: u32, dir: &std::path::Path) -> ImageHost {
    small().images(images).cache_dir(dir).build().unwrap()
}

/// Waits for every photo of `host` and checks each against the drawing.
fn assert_all_photos_right(host: &ImageHost) {
    for k in 1..=host.image_count() {
        assert_eq!(
            host.image(k).unwrap(),
            synth::photo_jpeg(k, 64, 48),
            "photo {k}"
        );
    }
}

#[test]
fn a_cached_photo_is_read_back_with_identical_bytes() {
    watchdog(LIMIT, || {
        let dir = TempDir::new("host-cache-hit");
        let cache = dir.path().join(host::CACHE_FOLDER);
        let first = cached(3, &cache);
        assert_all_photos_right(&first);
        assert_eq!(first.cache_hits(), 0, "an empty cache has nothing to give");
        drop(first); // joins the drawers: every cache file is written
        for k in 1..=3 {
            assert!(
                cache.join(cache_name(k, 64, 48)).is_file(),
                "photo {k} is cached"
            );
        }

        let second = cached(3, &cache);
        let mut client = Client::connect(&second);
        for k in 1..=3 {
            assert_eq!(
                client.get(&format!("/image_{k}.jpg")).body,
                synth::photo_jpeg(k, 64, 48)
            );
        }
        assert_all_photos_right(&second);
        assert_eq!(second.cache_hits(), 3, "nothing was drawn again");
        // Another size is another photo: not read from this cache.
        drop(second);
        let other = small()
            .images(1)
            .size(32, 24)
            .cache_dir(&cache)
            .build()
            .unwrap();
        assert_eq!(other.image(1).unwrap(), synth::photo_jpeg(1, 32, 24));
        assert_eq!(other.cache_hits(), 0);
    });
}

#[test]
fn a_short_or_damaged_cache_file_is_drawn_again_not_served() {
    watchdog(LIMIT, || {
        let dir = TempDir::new("host-cache-damage");
        let cache = dir.path().join(host::CACHE_FOLDER);
        let first = cached(3, &cache);
        assert_all_photos_right(&first);
        drop(first);
        // Photo 1 cut short (as a crash mid-write of a non-atomic writer
        // would leave it), photo 2 with one byte changed in the middle.
        let one = cache.join(cache_name(1, 64, 48));
        let bytes = std::fs::read(&one).unwrap();
        std::fs::write(&one, &bytes[..bytes.len() / 2]).unwrap();
        let two = cache.join(cache_name(2, 64, 48));
        let mut bytes = std::fs::read(&two).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
        std::fs::write(&two, &bytes).unwrap();

        let second = cached(3, &cache);
        assert_all_photos_right(&second);
        let mut client = Client::connect(&second);
        for k in 1..=2 {
            assert_eq!(
                client.get(&format!("/image_{k}.jpg")).body,
                synth::photo_jpeg(k, 64, 48)
            );
        }
        assert_eq!(second.cache_hits(), 1, "only photo 3 was whole");
        drop(second);
        // The damaged files were replaced by whole ones.
        let third = cached(3, &cache);
        assert_all_photos_right(&third);
        assert_eq!(third.cache_hits(), 3);
    });
}

#[test]
fn a_link_in_the_cache_is_never_followed() {
    use std::os::unix::fs::symlink;
    watchdog(LIMIT, || {
        let dir = TempDir::new("host-cache-links");
        let cache = dir.path().join(host::CACHE_FOLDER);
        std::fs::create_dir(&cache).unwrap();
        // Someone else's file: a well-formed cache file of another photo,
        // which would be served as photo 1 if the link were followed.
        let theirs = dir.path().join("theirs.jpg");
        {
            let elsewhere = TempDir::new("host-cache-links-source");
            let source = cached(2, elsewhere.path());
            assert_all_photos_right(&source);
            drop(source);
            std::fs::copy(elsewhere.path().join(cache_name(2, 64, 48)), &theirs).unwrap();
        }
        let before = std::fs::read(&theirs).unwrap();
        let planted = cache.join(cache_name(1, 64, 48));
        symlink(&theirs, &planted).unwrap();

        let host = cached(2, &cache);
        assert_eq!(
            Client::connect(&host).get("/image_1.jpg").body,
            synth::photo_jpeg(1, 64, 48)
        );
        assert_all_photos_right(&host);
        assert_eq!(host.cache_hits(), 0, "the link was not read");
        drop(host);
        assert_eq!(
            std::fs::read(&theirs).unwrap(),
            before,
            "their file is untouched"
        );
        let meta = std::fs::symlink_metadata(&planted).unwrap();
        assert!(
            meta.is_file(),
            "the link was replaced by a cache file of our own"
        );

        // A link in the cache folder's own place: the folder is not used,
        // nothing is written where it points, and the photos are still right.
        let target = TempDir::new("host-cache-links-target");
        let linked = dir.path().join("linked-cache");
        symlink(target.path(), &linked).unwrap();
        let host = cached(2, &linked);
        assert_all_photos_right(&host);
        drop(host);
        assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
    });
}

#[test]
fn photos_to_draw_counts_what_is_neither_drawn_nor_cached_and_wait_until_drawn_draws_it() {
    // The demo draws every photo first when more than DRAW_FIRST_ABOVE are
    // still to draw (a variant asking for 1,000 at once would wait for the
    // drawing past its deadline); these are the two calls it makes.
    watchdog(LIMIT, || {
        let dir = TempDir::new("host-to-draw");
        let cache = dir.path().join(host::CACHE_FOLDER);
        let first = small()
            .images(4)
            .draw_ahead(false)
            .cache_dir(&cache)
            .build()
            .unwrap();
        assert_eq!(first.photos_to_draw(), 4, "nothing drawn, nothing cached");
        first.image(2).unwrap();
        assert_eq!(first.photos_to_draw(), 3, "photo 2 is drawn");
        first.wait_until_drawn();
        assert_eq!(first.photos_to_draw(), 0);
        assert_eq!(first.photos_drawn(), 4);
        drop(first); // joins the drawers: every cache file is written

        // A new host on the same cache has nothing to draw before it reads
        // a single photo, except where the cache file is a planted link.
        #[cfg(unix)]
        {
            let name = cache.join(cache_name(3, 64, 48));
            std::fs::remove_file(&name).unwrap();
            std::os::unix::fs::symlink(cache.join(cache_name(1, 64, 48)), &name).unwrap();
        }
        let second = small()
            .images(4)
            .draw_ahead(false)
            .cache_dir(&cache)
            .build()
            .unwrap();
        let expected = if cfg!(unix) { 1 } else { 0 };
        assert_eq!(second.photos_to_draw(), expected, "only the linked one");
        second.wait_until_drawn();
        assert_all_photos_right(&second);
    });
}
