//! The wasm build's side of the crate: a driver that JS runs one step at a time (JS owns `fetch`,
//! timers, the clock and randomness), and the one `wasm-bindgen` binding module.

#[cfg(feature = "wasm")]
mod binding;
// Without the binding (plain `cargo test`) only the tests use parts of the driver.
#[cfg_attr(not(feature = "wasm"), allow(dead_code))]
mod driver;
