//! Runnable examples for mempool; see the `[[example]]` targets.
//!
//! The library half holds the parts that the examples and their tests share:
//! the length-prefixed [`frame`] format, a tokio [`frame_server`] that reads
//! each frame into a pooled buffer, a [`frame_client`] to drive it, and a
//! [`log_sink`] that appends each frame to the `takhin-log` storage log.

pub mod frame;
pub mod frame_client;
pub mod frame_server;
pub mod log_sink;
