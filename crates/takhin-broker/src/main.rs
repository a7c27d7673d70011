//! `takhin-broker`: see `takhin-broker --help` and docs/broker.md.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use takhin_broker::{Broker, BrokerError, Config};

/// The benchmark's allocation count (feature `count-allocations`).
#[cfg(feature = "count-allocations")]
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    pub(crate) static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

    pub(crate) struct Counting;

    // SAFETY: forwards every call to `System` unchanged; counting touches
    // no memory it hands out.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: the caller's contract for `alloc` is `System`'s.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: as `dealloc` and `alloc`.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// Publishes the count every second.
    pub(crate) fn report() {
        std::thread::spawn(|| {
            loop {
                metrics::counter!("takhin_broker_heap_allocations_total")
                    .absolute(ALLOCATIONS.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        });
    }
}

fn main() -> ExitCode {
    let config = Config::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("takhin-broker: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("takhin-broker: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), BrokerError> {
    let broker = Broker::bind(&config).await?;
    let _reporters = match config.metrics {
        Some(addr) => {
            let (bound, reporters) = takhin_broker::serve_metrics(addr, broker.request_pool())?;
            println!("takhin-broker: metrics on http://{bound}/metrics");
            #[cfg(feature = "count-allocations")]
            counting::report();
            reporters
        }
        None => Vec::new(),
    };
    // Tests and scripts read the address from this line.
    println!("takhin-broker: listening on {}", broker.local_addr());
    std::io::stdout().flush()?;
    broker.run(shutdown_signal()).await?;
    println!("takhin-broker: flushed and stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
