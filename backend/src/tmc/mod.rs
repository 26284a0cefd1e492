//! The TMC: its catalog format, `sms tmc serve` (a TMC serving a folder of packages), and the
//! demo TMC's packages. The SMS side of the protocol is `service::tmc`.

pub mod catalog;
pub mod demo;
pub mod server;
