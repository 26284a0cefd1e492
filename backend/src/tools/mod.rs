//! Programs that are not the SMS server but ship with it: a TMC serving a folder of packages
//! (`sms tmc serve`), the demo TMC's packages, and simulated IPS devices (`sms device simulate`).

pub mod demo_packages;
pub mod device_simulator;
pub mod tmc_server;
pub mod tuf_feed;
