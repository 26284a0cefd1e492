//! The server's life: building the application from its configuration, serving it behind the
//! gate, the in-process restart, the (simulated) reboot, and the demo's wiring.

pub mod demo;
pub mod finishing;
pub mod handoff;
pub mod health;
pub mod lifecycle;
pub mod schema;
pub mod serve;
pub mod startup;
pub mod state;
pub mod supervisor;
pub mod systemd;
pub mod tls;
