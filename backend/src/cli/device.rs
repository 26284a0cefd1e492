//! `sms device simulate`: simulated IPS devices with status endpoints.

use anyhow::Context;
use clap::Subcommand;

use crate::app::startup::shutdown_signal;

#[derive(Debug, Subcommand)]
pub(super) enum DeviceCommand {
    /// Run simulated IPS devices, each with a status endpoint
    /// (`GET http://ADDR/v1/devices/NAME/status`) whose uptime and packet counter keep rising.
    Simulate {
        /// How many devices.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// The devices are named PREFIX-01, PREFIX-02, ...
        #[arg(long, default_value = "ips")]
        prefix: String,
    },
}

pub(super) async fn device_simulate(
    count: usize,
    listen: std::net::SocketAddr,
    prefix: &str,
) -> anyhow::Result<()> {
    use crate::tools::device_simulator::Simulator;
    anyhow::ensure!(
        (1..=1000).contains(&count),
        "--count must be between 1 and 1000"
    );
    let simulator = Simulator::new(prefix, count);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("simulating {count} IPS device(s); add them to the SMS by these status URLs:");
    for name in simulator.names() {
        println!("  http://{addr}{}", Simulator::status_path(&name));
    }
    println!("devices ready at http://{addr}/v1/devices");
    axum::serve(listener, simulator.router())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}
