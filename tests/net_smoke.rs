//! Smoke test of sockets and pools (temporary).
use std::time::Duration;

#[test]
fn echo_and_refused_and_blocking() {
    evloop::run(async {
        let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = evloop::spawn(async move {
            let (c, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                let n = c.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                c.write_all(&buf[..n]).await.unwrap();
            }
        });
        let s = evloop::net::TcpStream::connect(addr).await.unwrap();
        let data = vec![7u8; 1 << 20];
        let writer = {
            let sent = data.clone();
            let s2 = std::rc::Rc::new(s);
            let w = s2.clone();
            let h = evloop::spawn(async move {
                w.write_all(&sent).await.unwrap();
                w.shutdown(std::net::Shutdown::Write).unwrap();
            });
            let mut got = vec![0u8; data.len()];
            s2.read_exact(&mut got).await.unwrap();
            assert_eq!(got, data);
            h.await.unwrap();
            s2
        };
        drop(writer);
        server.await.unwrap();
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = evloop::net::TcpStream::connect(free).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        let v = evloop::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(20));
            5
        })
        .await
        .unwrap();
        assert_eq!(v, 5);
        let p = evloop::spawn_cpu(|| -> u32 { panic!("job boom") })
            .await
            .unwrap_err();
        assert!(p.is_panic());
        let addrs = evloop::net::lookup_host("localhost:80").await.unwrap();
        assert!(!addrs.is_empty());
    });
}
