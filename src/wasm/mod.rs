//! The wasm build's side of the crate: the `wasm-bindgen` binding modules. JS performs the core
//! driver's steps (`src/driver.rs`) with the runtime's `fetch` or `node:https`, and owns the
//! clock, timers and randomness; in the Node fallback it also reads the environment and files
//! that Node's conventions name (`conventions.rs`) and opens the connections they decide.

mod binding;
mod conventions;
