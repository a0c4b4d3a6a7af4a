//! The one integration test binary: whole-CLI runs of `privpath`.

mod harness;
mod samples;
mod smoke;
