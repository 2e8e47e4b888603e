//! Everything that needs the outside world: the HTTPS transport (reqwest over rustls/ring), the
//! driver that runs the core's [`crate::Exchange`] with a real clock, timers and randomness, and
//! the one Node-API binding module.

mod binding;
mod client;
mod conventions;
mod transport;
