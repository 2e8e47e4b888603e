//! vendor-auth: trade a vendor marketplace API's long-lived keys for short-lived JWTs.
//!
//! The crate is split in two on purpose:
//! - a sans-IO core (everything outside `native` and `wasm`): providers build request
//!   *descriptions* and parse response *descriptions*; the lifecycle decides when to exchange;
//!   the one driver ([`Driver`]) runs a client's exchanges step by step ("send this", "wait this
//!   long", "done"). It reads no clock and touches no socket: every step takes the time, so
//!   tests (and users' tests) can drive a client's clock, and it builds for
//!   `wasm32-unknown-unknown` too.
//! - `native` (default feature): the Node-API binding, and a small tokio loop that performs the
//!   driver's steps with reqwest.
//! - `wasm` (feature, for `wasm32-unknown-unknown`): the `wasm-bindgen` binding; JS performs the
//!   driver's steps with the runtime's `fetch` (or `node:https`).

mod answer;
mod compact;
pub mod conventions;
mod coordinator;
mod driver;
mod error;
mod exchange;
mod expiry;
mod http;
mod lifecycle;
mod options;
mod origins;
mod pem;
pub mod provider;
mod redact;
mod retry;
pub mod schema;
mod session;
mod status;
mod store;
pub mod trace;

#[cfg(feature = "native")]
mod native;

#[cfg(any(feature = "native", feature = "wasm"))]
mod wire;

#[cfg(feature = "wasm")]
mod wasm;

pub use coordinator::{StoreEnd, StoreFault, StoreNext, StoreRun, StoreStep};
pub use driver::{Driver, ExchangeTrace, Failure, Next, Run};
pub use error::{Error, ErrorCode};
pub use exchange::{Exchange, Step};
pub use expiry::{jwt_exp_ms, parse_http_date_ms, resolve_expiry, Timing, MAX_TOKEN_LIFETIME_MS};
pub use http::{
    body_too_large, host_of, Header, HttpRequest, HttpResponse, TransportFailure, ANSWER_HEADERS,
    MAX_BODY_BYTES,
};
pub use lifecycle::{Lifecycle, Mode, Plan, Times, SAFETY_MARGIN_MS};
pub use options::{
    option_schema, FieldEntry, OptionEntry, OptionInput, OptionSchema, Options, ProviderEntry,
    RawOptions,
};
pub use origins::TrustedOrigins;
pub use provider::Provider;
pub use redact::{scrub, token_preview};
pub use retry::{parse_retry_after_ms, RetryPolicy};
pub use schema::{Environment, OptionSpec};
pub use session::{FieldKind, FieldSpec, FieldValue, Session, SessionMetadata, TokenHeader};
pub use store::{SharedRateLimit, StoreSeal, StoredSession, NONCE_LEN};
