//! Managed IPS devices: the simulator (`sms device simulate`, and the demo's devices).

pub mod simulator;
