//! `vnr-liar`: a vhost-user virtio-net device that tells the driver lies on
//! command, for the hostile-device tests (qemu-test/guest/liar.sh).
//!
//! QEMU attaches it with `-netdev vhost-user` over shared guest memory. The
//! device answers ARP and ping for 192.0.2.99 (frames.rs); the harness arms a
//! lie over the control socket (one line per connection, one line back):
//!
//! ```text
//! FAULT COUNT    arm a fault (faults.rs) for COUNT frames/completions/interrupts/seconds
//! report         traffic seen and lies told so far
//! ```
//!
//! Usage: `vnr-liar --socket VHOST_USER_PATH --ctl CONTROL_PATH`

mod device;
mod faults;
mod frames;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use vhost_user_backend::VhostUserDaemon;
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use device::{Liar, WAKE};
use faults::{Fault, Faults};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| {
                eprintln!("usage: vnr-liar --socket VHOST_USER_PATH --ctl CONTROL_PATH");
                std::process::exit(2)
            })
    };
    let (socket, ctl) = (arg("--socket"), arg("--ctl"));
    if let Err(e) = run(&socket, &ctl) {
        eprintln!("vnr-liar: {e}");
        std::process::exit(1);
    }
}

fn run(socket: &str, ctl: &str) -> Result<(), String> {
    let faults = Arc::new(Mutex::new(Faults::default()));
    let wake = EventFd::new(EFD_NONBLOCK).map_err(|e| format!("eventfd: {e}"))?;
    let backend = Liar::new(faults.clone(), wake.try_clone().map_err(|e| e.to_string())?);
    let mut daemon = VhostUserDaemon::new(
        "vnr-liar".into(),
        Arc::new(RwLock::new(backend)),
        GuestMemoryAtomic::new(GuestMemoryMmap::new()),
    )
    .map_err(|e| format!("daemon: {e:?}"))?;
    daemon.get_epoll_handlers()[0]
        .register_listener(wake.as_raw_fd(), EventSet::IN, u64::from(WAKE))
        .map_err(|e| format!("register wake-up: {e}"))?;

    let _ = std::fs::remove_file(ctl);
    let listener = UnixListener::bind(ctl).map_err(|e| format!("{ctl}: {e}"))?;
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            if let Err(e) = control(conn, &faults, &wake) {
                eprintln!("vnr-liar: control: {e}");
            }
        }
    });
    eprintln!("vnr-liar: waiting for QEMU on {socket}, control on {ctl}");
    // Returns when QEMU disconnects (the guest powered off).
    daemon.serve(socket).map_err(|e| format!("serve: {e:?}"))
}

/// One control request: `FAULT COUNT` or `report`.
fn control(conn: UnixStream, faults: &Mutex<Faults>, wake: &EventFd) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let reply = match words.as_slice() {
        ["report"] => format!("ok {}", faults.lock().unwrap().report()),
        [name, count] => match (Fault::parse(name), count.parse::<u32>()) {
            (Some(f), Ok(n)) if n > 0 => {
                faults.lock().unwrap().arm(f, n);
                wake.write(1)?;
                if f == Fault::TxStall {
                    // Resume transmit processing when the stall ends.
                    let w = wake.try_clone()?;
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(u64::from(n) * 1000 + 20));
                        let _ = w.write(1);
                    });
                }
                format!("ok armed {name} {n}")
            }
            _ => format!("error: unknown fault or count: {}", line.trim()),
        },
        _ => format!(
            "error: expected 'FAULT COUNT' or 'report', got: {}",
            line.trim()
        ),
    };
    eprintln!("vnr-liar: {} -> {reply}", line.trim());
    (&conn).write_all(format!("{reply}\n").as_bytes())
}
