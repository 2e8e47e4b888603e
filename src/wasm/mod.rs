//! The wasm build's side of the crate: the one `wasm-bindgen` binding module. JS performs the
//! core driver's steps (`src/driver.rs`) with the runtime's `fetch` or `node:https`, and owns
//! the clock, timers and randomness.

mod binding;
