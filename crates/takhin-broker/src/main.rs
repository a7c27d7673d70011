//! `takhin-broker`: see `takhin-broker --help` and docs/broker.md.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use takhin_broker::{Broker, BrokerError, Config};

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
