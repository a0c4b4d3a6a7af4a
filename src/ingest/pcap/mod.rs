//! Captures: pcap and pcapng into flows, DNS answers, TLS SNI and HTTP Host.
//!
//! CONTRACT: `read_capture(reader, name, source, opts) -> CaptureOutput`
//! (see the capture issue); `ingest::read_inputs` calls it for inputs sniffed
//! as pcap or pcapng (gzip already removed).
