//! The one integration test binary: whole-CLI runs of `privpath`.

#[cfg(feature = "cloudwatch")]
mod cloudwatch;
mod harness;
mod smoke;
