//! The embedded image host: a local stand-in for the photo CDN the tutorial
//! downloads from.
//!
//! [`ImageHost`] serves N deterministic photo-like JPEGs
//! ([`synth::photo_jpeg`]) from memory as `/image_1.jpg` … `/image_N.jpg`
//! on `127.0.0.1`, each after a fixed latency that stands in for the
//! internet. It is what the demo and the tests
//! download from, and it speaks what the Python reference server speaks:
//! HTTP/1.1 with keep-alive, `Content-Length`, query strings ignored (the
//! clients append `?ts=...`).
//!
//! The server is [`http::server`](crate::http::server) on an evloop
//! [`Runtime`] of its own, on a thread of its own: the pipeline under test
//! and the server never share a loop, so the server's latency is real and
//! not affected by whatever the pipeline's loop does (or fails to do).
//!
//! The latency is per request and concurrent: each connection's task sleeps
//! on the server loop's timer, so twelve requests that arrive together are
//! all answered about one latency later, not one after another. Requests
//! pipelined on *one* connection are answered in order, each after its own
//! latency.
//!
//! No path ever reaches the file system: the only paths that name something
//! are exactly `/image_<k>.jpg` with `k` written in decimal without leading
//! zeros and `1 <= k <= N`; every other path is a `404`.
//!
//! It listens at once and draws its photos afterwards, in a [`Gallery`]:
//! background threads (one per core) draw them in order, and a request for
//! a photo not drawn yet moves that photo to the front of the queue; its
//! connection task awaits it (the server's loop goes on serving the
//! others). The latency runs from the request's arrival, meanwhile: a photo
//! drawn within the latency is answered no later than a drawn one. With a
//! [cache folder](ImageHostBuilder::cache_dir), photos drawn once are read
//! back on the next run instead of being drawn again.
//!
//! Stopping: the server loop's main future is a [`select`] between accepting
//! and a [`oneshot`] receiver. Dropping the host (or [`ImageHost::shutdown`])
//! sends on the other end from the caller's thread, which wakes the server's
//! loop; the main future returns, the runtime is dropped, which cancels every
//! connection task and closes the listener, and the thread is joined.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::gallery::{Asked, Gallery};
use super::photo_cache;
use super::synth;
use crate::combine::Either;
use crate::http::server::{self, Request, Response, ServerConfig, ServerStats, Service};
use crate::net::TcpListener;
use crate::sync::oneshot;
use crate::time::sleep;
use crate::{Runtime, select};

/// How many images the host serves unless told otherwise (the tutorial's 12).
pub const DEFAULT_IMAGES: u32 = 12;

/// The latency of each image response unless told otherwise.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(300);

/// The most images one host may hold (about 400 KiB each at full size).
pub const MAX_IMAGES: u32 = 1000;

/// The largest width or height of an image, in pixels.
pub const MAX_SIDE: u32 = 8192;

/// The longest latency accepted.
pub const MAX_LATENCY: Duration = Duration::from_secs(3600);

/// When more photos than this are still to draw (neither drawn nor in the
/// cache), the demo and the pipeline examples draw them all before the
/// first variant starts, and say so.
///
/// Drawing is lazy so that a run starts at once, but a variant that asks
/// for every photo at once then waits for the drawing too, and its timing
/// with it: a photo of 1920x1080 takes tens of milliseconds of CPU. The
/// default twelve are drawn by the time their requests' latency (300 ms)
/// is nearly over, so the default run starts at once; 48 on a first run
/// made `streaming` take 1.59 s against a bound of 0.80 s (0.84 s once
/// they were cached), and 1,000 made 69 requests of the `async` variant
/// pass their 30 s deadline. So anything beyond the default is drawn
/// first, once: the photos are cached.
pub const DRAW_FIRST_ABOVE: u32 = 12;

/// The name of the photo cache's folder inside an output folder (the demo
/// keeps its cache in `output/photo-cache`); see
/// [`ImageHostBuilder::cache_dir`].
pub const CACHE_FOLDER: &str = "photo-cache";

/// Settings for an [`ImageHost`]; made by [`ImageHost::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::pipeline::host::ImageHost;
///
/// let host = ImageHost::builder()
///     .images(2)
///     .size(64, 48)
///     .latency(Duration::ZERO)
///     .build()
///     .unwrap();
/// assert_eq!(host.image_count(), 2);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ImageHostBuilder {
    images: u32,
    width: u32,
    height: u32,
    latency: Duration,
    port: u16,
    idle_timeout: Duration,
    max_connections: usize,
    cache_dir: Option<PathBuf>,
    draw_ahead: bool,
}

impl Default for ImageHostBuilder {
    fn default() -> ImageHostBuilder {
        ImageHostBuilder {
            images: DEFAULT_IMAGES,
            width: synth::WIDTH,
            height: synth::HEIGHT,
            latency: DEFAULT_LATENCY,
            port: 0,
            idle_timeout: server::DEFAULT_IDLE_TIMEOUT,
            max_connections: server::DEFAULT_MAX_CONNECTIONS,
            cache_dir: None,
            draw_ahead: true,
        }
    }
}

impl ImageHostBuilder {
    /// Serve `n` images, `/image_1.jpg` … `/image_n.jpg` (default 12,
    /// at most [`MAX_IMAGES`]; 0 serves nothing but 404s).
    pub fn images(mut self, n: u32) -> ImageHostBuilder {
        self.images = n;
        self
    }

    /// Wait this long before each image response (default 300 ms; zero
    /// answers at once). Error responses are never delayed.
    pub fn latency(mut self, latency: Duration) -> ImageHostBuilder {
        self.latency = latency;
        self
    }

    /// Draw the images at `width`×`height` (default 1920×1080; each side
    /// 1..=[`MAX_SIDE`]). Tests use small ones, which are quick to draw.
    pub fn size(mut self, width: u32, height: u32) -> ImageHostBuilder {
        self.width = width;
        self.height = height;
        self
    }

    /// Listen on this port of 127.0.0.1 (default 0: any free port, see
    /// [`ImageHost::addr`]).
    pub fn port(mut self, port: u16) -> ImageHostBuilder {
        self.port = port;
        self
    }

    /// Close a connection that has not sent a complete request head this
    /// long after connecting or after its last response (default 30 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> ImageHostBuilder {
        self.idle_timeout = timeout;
        self
    }

    /// Keep at most `n` connections open (default
    /// [`server::DEFAULT_MAX_CONNECTIONS`], 512; at least 1). A client
    /// connecting beyond it takes the place of the connection idle longest;
    /// above three quarters of it, idle connections are closed after
    /// [`server::DEFAULT_PRESSURE_IDLE_TIMEOUT`] (see
    /// [`ServerConfig`]).
    pub fn max_connections(mut self, n: usize) -> ImageHostBuilder {
        self.max_connections = n;
        self
    }

    /// Keep the photos in the folder `dir` between runs (default: none,
    /// every photo is drawn). A photo found there (keyed by its number, its
    /// size and [`synth::DRAWING_VERSION`]) is read instead of drawn, and
    /// one drawn is written there, as a new file renamed into place.
    ///
    /// `build` creates the folder (and its parent) if need be. A link in
    /// the folder's place, or at a photo's name, is never followed: the
    /// folder is then not used, and a photo whose file is a link, short or
    /// damaged is drawn again and its file replaced. A cache that cannot be
    /// used is said once on stderr; the host draws without it.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> ImageHostBuilder {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Draw every photo in the background from the start (default `true`).
    /// With `false`, a photo is drawn only when it is first asked for (by a
    /// request or by [`ImageHost::image`]), so tests can see the order.
    pub fn draw_ahead(mut self, ahead: bool) -> ImageHostBuilder {
        self.draw_ahead = ahead;
        self
    }

    /// The server's limits, from these settings.
    fn server_config(&self) -> ServerConfig {
        ServerConfig {
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            ..ServerConfig::default()
        }
    }

    /// Binds `127.0.0.1:port`, starts the server thread and the drawing
    /// threads, and returns once the server is accepting connections: no
    /// photo needs to be drawn yet.
    ///
    /// Drawing takes about 80 ms per full-size image per core in a release
    /// build (much longer in a debug build); small sizes are nearly free.
    /// A request for a photo not drawn yet is answered when it is drawn
    /// or its latency is over, whichever comes last.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a setting out of range (the message names it), the
    /// bind error (naming the address) if the port is taken, or the error of
    /// the server thread if it cannot start its runtime.
    pub fn build(self) -> io::Result<ImageHost> {
        self.validate()?;
        // Bind first: a taken port is reported before any time goes into
        // drawing. Connections that arrive before the loop runs wait in the
        // kernel's backlog.
        let bind_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let listener = std::net::TcpListener::bind(bind_addr).map_err(|e| {
            io::Error::new(e.kind(), format!("image host: binding {bind_addr}: {e}"))
        })?;
        let addr = listener.local_addr()?;
        let mut photos =
            Gallery::new(self.images, self.width, self.height).draw_ahead(self.draw_ahead);
        if let Some(dir) = &self.cache_dir {
            match photo_cache::prepare_dir(dir) {
                Ok(()) => photos = photos.with_cache(dir),
                Err(e) => eprintln!(
                    "image host: not using the photo cache {}: {e}; drawing every photo",
                    dir.display()
                ),
            }
        }
        let gallery = Arc::new(photos);

        let stats = Arc::new(HostStats::default());
        let (stop, stopped) = oneshot::channel();
        let service = ImageService {
            gallery: gallery.clone(),
            latency: self.latency,
            stats: stats.clone(),
        };
        let config = self.server_config();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_stats = stats.clone();
        let thread = thread::Builder::new()
            .name(format!("evloop-image-host {addr}"))
            .spawn(move || {
                server_thread(listener, service, config, thread_stats, stopped, ready_tx)
            })
            .map_err(|e| {
                io::Error::new(e.kind(), format!("image host: starting its thread: {e}"))
            })?;

        match ready_rx.recv() {
            Ok(Ok(())) => {
                let mut host = ImageHost {
                    addr,
                    gallery,
                    latency: self.latency,
                    stats,
                    stop: Some(stop),
                    thread: Some(thread),
                    drawers: Vec::new(),
                };
                host.drawers = start_drawers(&host.gallery)?;
                Ok(host)
            }
            Ok(Err(e)) => {
                // The thread has returned (or is about to) after sending this.
                let _ = thread.join();
                Err(e)
            }
            Err(mpsc::RecvError) => {
                let _ = thread.join();
                Err(io::Error::other(
                    "image host: the server thread ended before it was ready",
                ))
            }
        }
    }

    fn validate(&self) -> io::Result<()> {
        let invalid = |what: String| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if self.images > MAX_IMAGES {
            return invalid(format!(
                "image host: {} images is more than the limit of {MAX_IMAGES}",
                self.images
            ));
        }
        for (name, side) in [("width", self.width), ("height", self.height)] {
            if !(1..=MAX_SIDE).contains(&side) {
                return invalid(format!(
                    "image host: {name} {side} is outside 1..={MAX_SIDE}"
                ));
            }
        }
        if self.latency > MAX_LATENCY {
            return invalid(format!(
                "image host: latency {:?} is longer than {MAX_LATENCY:?}",
                self.latency
            ));
        }
        if self.idle_timeout.is_zero() || self.idle_timeout > MAX_LATENCY {
            return invalid(format!(
                "image host: idle timeout {:?} is outside (0, {MAX_LATENCY:?}]",
                self.idle_timeout
            ));
        }
        self.server_config()
            .validate()
            .map_err(|e| io::Error::new(e.kind(), format!("image host: {e}")))
    }
}

/// A running image server on 127.0.0.1, on a thread of its own.
///
/// Dropping it stops the server and joins its thread; in-flight requests are
/// cut off. See the [module docs](self) for what it serves.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use evloop::pipeline::host::ImageHost;
///
/// let host = ImageHost::builder().images(3).size(64, 48).latency(Duration::ZERO).build().unwrap();
/// assert_eq!(host.url(2), format!("{}/image_2.jpg", host.base_url()));
///
/// let mut client = std::net::TcpStream::connect(host.addr()).unwrap();
/// client.write_all(b"GET /image_2.jpg?ts=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
/// let mut reply = Vec::new();
/// client.read_to_end(&mut reply).unwrap();
/// assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"));
/// assert!(reply.ends_with(host.image(2).unwrap()));
/// assert_eq!(host.requests_served(), 1);
/// ```
pub struct ImageHost {
    addr: SocketAddr,
    gallery: Arc<Gallery>,
    latency: Duration,
    stats: Arc<HostStats>,
    /// Sending (or dropping) it stops the server.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    /// The drawing threads.
    drawers: Vec<thread::JoinHandle<()>>,
}

impl ImageHost {
    /// A builder with the defaults: 12 images of 1920×1080, 300 ms latency,
    /// any free port, 30 s idle timeout, at most 512 connections.
    pub fn builder() -> ImageHostBuilder {
        ImageHostBuilder::default()
    }

    /// The address the server listens on (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of image `k`: `http://127.0.0.1:PORT/image_k.jpg` (1-based;
    /// a `k` outside `1..=N` gives a URL that answers 404).
    pub fn url(&self, k: u32) -> String {
        format!("{}/image_{k}.jpg", self.base_url())
    }

    /// The URLs of every image, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use evloop::pipeline::host::ImageHost;
    /// let host = ImageHost::builder().images(2).size(8, 8).build().unwrap();
    /// let urls = host.urls();
    /// assert_eq!(urls.len(), 2);
    /// assert!(urls[1].ends_with("/image_2.jpg"));
    /// ```
    pub fn urls(&self) -> Vec<String> {
        (1..=self.image_count()).map(|k| self.url(k)).collect()
    }

    /// How many images are served.
    pub fn image_count(&self) -> u32 {
        self.gallery.len()
    }

    /// The exact bytes served as `/image_k.jpg`, or `None` if `k` is not in
    /// `1..=N`.
    ///
    /// Waits for the photo if it is not drawn yet (drawing it on the
    /// calling thread if no drawing thread has started it), so it blocks:
    /// call it from plain threads, not from inside an event loop's task.
    ///
    /// # Examples
    ///
    /// ```
    /// # use evloop::pipeline::host::ImageHost;
    /// let host = ImageHost::builder().images(1).size(16, 9).build().unwrap();
    /// assert_eq!(host.image(1).unwrap(), &evloop::pipeline::synth::photo_jpeg(1, 16, 9)[..]);
    /// assert!(host.image(0).is_none() && host.image(2).is_none());
    /// ```
    pub fn image(&self, k: u32) -> Option<&[u8]> {
        self.gallery.wait(k)
    }

    /// How many photos have been drawn (or read from the cache) so far.
    ///
    /// # Examples
    ///
    /// ```
    /// # use evloop::pipeline::host::ImageHost;
    /// let host = ImageHost::builder().images(3).size(16, 9).draw_ahead(false).build().unwrap();
    /// assert_eq!(host.photos_drawn(), 0); // listening, nothing drawn
    /// host.image(2).unwrap();
    /// assert_eq!(host.photos_drawn(), 1);
    /// assert!(host.is_drawn(2) && !host.is_drawn(1));
    /// ```
    pub fn photos_drawn(&self) -> u64 {
        self.gallery.drawn()
    }

    /// Whether photo `k` is drawn (or read from the cache) already.
    pub fn is_drawn(&self, k: u32) -> bool {
        self.gallery.get(k).is_some()
    }

    /// How many photos are still to draw: neither drawn (or read) yet nor
    /// in the cache folder.
    ///
    /// # Examples
    ///
    /// ```
    /// # use evloop::pipeline::host::ImageHost;
    /// let host = ImageHost::builder().images(3).size(16, 9).draw_ahead(false).build().unwrap();
    /// assert_eq!(host.photos_to_draw(), 3);
    /// host.wait_until_drawn();
    /// assert_eq!(host.photos_to_draw(), 0);
    /// ```
    pub fn photos_to_draw(&self) -> u32 {
        let undrawn = (1..=self.image_count())
            .filter(|&k| !self.is_drawn(k) && !self.gallery.in_cache(k))
            .count();
        u32::try_from(undrawn).expect("at most MAX_IMAGES photos")
    }

    /// Blocks until every photo is drawn or read from the cache (asking for
    /// each in turn, as a request would, while the drawing threads work).
    /// See [`DRAW_FIRST_ABOVE`] for when the demo calls it.
    pub fn wait_until_drawn(&self) {
        for k in 1..=self.image_count() {
            let _ = self.gallery.wait(k);
        }
    }

    /// How many photos were read from the cache folder instead of drawn.
    pub fn cache_hits(&self) -> u64 {
        self.gallery.cache_hits()
    }

    /// When the first image request reached the host, if one has.
    pub fn first_request_at(&self) -> Option<Instant> {
        self.stats.first_request.get().copied()
    }

    /// The latency before each image response.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// How many TCP connections the server has accepted (keep-alive clients
    /// use few).
    pub fn connections_accepted(&self) -> u64 {
        self.stats.server.connections_accepted()
    }

    /// How many responses (any status) the server has sent or started to
    /// send: a client that has read a response finds it counted.
    pub fn requests_served(&self) -> u64 {
        self.stats.server.requests_served()
    }

    /// How many image requests (that will be answered `200`) have reached
    /// the host so far.
    pub fn image_requests(&self) -> u64 {
        self.stats.image_requests.load(Ordering::SeqCst)
    }

    /// The most image requests that were waiting out their latency at the
    /// same moment: 1 if requests were served one after another, N if N
    /// overlapped.
    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight.load(Ordering::SeqCst)
    }

    /// Stops the server and joins its thread, like dropping the host, but
    /// says if the server thread panicked.
    ///
    /// # Errors
    ///
    /// If the server thread panicked (the message carries the panic's text).
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            // It fails only if the server thread is already gone, which is
            // what sending asks for anyway.
            let _ = stop.send(());
        }
        // Drawers stop after the photo in hand (a cache file is never left
        // half written: it is renamed into place whole, or not at all).
        self.gallery.close();
        for drawer in self.drawers.drain(..) {
            // A drawing that panicked has said so on stderr already, and
            // its photo is marked failed.
            let _ = drawer.join();
        }
        match self.thread.take().map(thread::JoinHandle::join) {
            None | Some(Ok(())) => Ok(()),
            Some(Err(payload)) => {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-text panic".to_owned());
                Err(io::Error::other(format!(
                    "image host {}: the server thread panicked: {text}",
                    self.addr
                )))
            }
        }
    }
}

impl Drop for ImageHost {
    fn drop(&mut self) {
        if let Err(e) = self.stop_and_join() {
            eprintln!("{e}");
        }
    }
}

impl fmt::Debug for ImageHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageHost")
            .field("addr", &self.addr)
            .field("images", &self.gallery.len())
            .field("drawn", &self.gallery.drawn())
            .field("latency", &self.latency)
            .field("connections_accepted", &self.connections_accepted())
            .field("requests_served", &self.requests_served())
            .finish()
    }
}

/// The image number that `path` names, if it is exactly `/image_<k>.jpg`
/// with `k` in `1..=count` written in decimal without leading zeros.
///
/// Anything else (other names, `..`, extra slashes, percent-escapes, signs,
/// leading zeros, overflowing numbers) names nothing.
///
/// # Examples
///
/// ```
/// use evloop::pipeline::host::image_index;
///
/// assert_eq!(image_index("/image_12.jpg", 12), Some(12));
/// assert_eq!(image_index("/image_13.jpg", 12), None);
/// assert_eq!(image_index("/image_01.jpg", 12), None);
/// assert_eq!(image_index("/image_1.jpg/..", 12), None);
/// ```
pub fn image_index(path: &str, count: u32) -> Option<u32> {
    let digits = path.strip_prefix("/image_")?.strip_suffix(".jpg")?;
    let canonical = !digits.is_empty()
        && digits.len() <= 10
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !canonical {
        return None;
    }
    let k: u32 = digits.parse().ok()?;
    (1..=count).contains(&k).then_some(k)
}

/// Starts one drawing thread per core (at most one per photo).
fn start_drawers(gallery: &Arc<Gallery>) -> io::Result<Vec<thread::JoinHandle<()>>> {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(gallery.len() as usize);
    let mut drawers = Vec::with_capacity(workers);
    for n in 0..workers {
        let gallery = gallery.clone();
        let spawned = thread::Builder::new()
            .name(format!("evloop-image-host drawer {n}"))
            .spawn(move || gallery.draw_until_done());
        match spawned {
            Ok(drawer) => drawers.push(drawer),
            // One drawer is enough to draw everything; none at all still
            // serves, since a request's own wait draws.
            Err(e) if !drawers.is_empty() => {
                eprintln!("image host: starting drawer {n}: {e}; drawing with {n}");
                break;
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("image host: starting its drawing thread: {e}"),
                ));
            }
        }
    }
    Ok(drawers)
}

/// Counters shared by the host handle and the server thread.
#[derive(Debug, Default)]
struct HostStats {
    server: Arc<ServerStats>,
    first_request: OnceLock<Instant>,
    image_requests: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts one image request as in flight while it lives (dropping it midway,
/// when the connection is cancelled, still counts it out).
struct InFlight<'a>(&'a HostStats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a HostStats) -> InFlight<'a> {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The application half: routes a path to an image and waits the latency.
struct ImageService {
    gallery: Arc<Gallery>,
    latency: Duration,
    stats: Arc<HostStats>,
}

impl Service for ImageService {
    fn call(&self, request: &Request) -> impl Future<Output = Response> {
        // Asked at once, on arrival: a photo not drawn yet goes to the front
        // of the drawing queue now, not when this future is first polled.
        let image =
            image_index(request.path(), self.gallery.len()).and_then(|k| self.gallery.ask(k));
        let latency = self.latency;
        let stats = self.stats.clone();
        async move {
            let Some(asked) = image else {
                return Response::text(404, "not found\n");
            };
            stats.first_request.get_or_init(Instant::now);
            stats.image_requests.fetch_add(1, Ordering::SeqCst);
            let _in_flight = InFlight::enter(&stats);
            // The latency runs while the photo is drawn.
            let answer_at = (!latency.is_zero()).then(|| sleep(latency));
            let body = match asked {
                Asked::Drawn(photo) => photo,
                // Awaited on this loop: the drawing thread's send wakes it.
                Asked::Pending(photo) => match photo.await {
                    Ok(photo) => photo,
                    // The host is stopping, or the drawing failed.
                    Err(_) => return Response::text(503, "the photo could not be drawn\n"),
                },
            };
            if let Some(answer_at) = answer_at {
                answer_at.await;
            }
            Response::new(200, "image/jpeg", body)
        }
    }
}

/// The body of the server thread: its own runtime, serving until stopped.
fn server_thread(
    listener: std::net::TcpListener,
    service: ImageService,
    config: ServerConfig,
    stats: Arc<HostStats>,
    stopped: oneshot::Receiver<()>,
    ready: mpsc::Sender<io::Result<()>>,
) {
    // The slow-poll warning is for the code under study, not for this
    // stand-in; on a busy machine it would only add noise to the demo.
    let runtime = match Runtime::builder().slow_poll_threshold(None).build() {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(io::Error::new(
                e.kind(),
                format!("image host: creating its runtime: {e}"),
            )));
            return;
        }
    };
    runtime.block_on(async {
        let listener = match TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(io::Error::new(
                    e.kind(),
                    format!("image host: registering its listener: {e}"),
                )));
                return;
            }
        };
        // The receiver is gone only if `build` itself is gone, which it is not:
        // it waits for exactly this message.
        let _ = ready.send(Ok(()));
        let server = server::serve(listener, Rc::new(service), config, stats.server.clone());
        // Sent or dropped, the other end of `stopped` means the same: stop.
        if let Either::Right(Err(e)) = select(stopped, server).await {
            // `build` validated the config, so this is not expected; but
            // a host that stopped serving must say why.
            eprintln!("image host: the server stopped: {e}");
        }
    });
    // Dropping the runtime cancels every connection task on this thread and
    // closes their sockets; the listener went with the `serve` future.
    drop(runtime);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_image_paths_name_an_image() {
        let yes = [("/image_1.jpg", 1), ("/image_12.jpg", 12)];
        for (path, k) in yes {
            assert_eq!(image_index(path, 12), Some(k), "{path}");
        }
        let no = [
            "/image_0.jpg",
            "/image_13.jpg",
            "/image_01.jpg",
            "/image_+1.jpg",
            "/image_-1.jpg",
            "/image_.jpg",
            "/image_1.png",
            "/image_1.jpeg",
            "/IMAGE_1.jpg",
            "/image_1.jpg/..",
            "/image_1.jpg/",
            "//image_1.jpg",
            "/../image_1.jpg",
            "/image_%31.jpg",
            "/image_4294967296.jpg",
            "/image_99999999999999999999.jpg",
            "image_1.jpg",
            "/",
            "",
        ];
        for path in no {
            assert_eq!(image_index(path, 12), None, "{path}");
        }
        assert_eq!(image_index("/image_1.jpg", 0), None);
    }
}
