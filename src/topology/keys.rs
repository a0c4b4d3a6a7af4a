//! Hash and search keys of the index: short ids and addresses as a few
//! machine words (no byte loops, no `memcmp` calls on the per-flow path).

use std::collections::HashMap;
use std::hash::Hasher;
use std::net::IpAddr;

/// Maps of ids and addresses: foldhash with a fixed seed (fast, and the
/// same order on every run; keys come from the user's own topology).
pub(crate) type FxMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A short id (`eni-0123456789abcdef0`: up to 24 bytes) as a hash key of
/// four words, read with overlapping loads: hashing and comparing it needs
/// no byte loop and no `memcmp` call (the interface lookup runs per flow).
/// Injective for a given length, so equal keys mean equal ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct IdKey {
    len: u8,
    a: u64,
    b: u64,
    c: u64,
}

impl IdKey {
    #[inline]
    pub(super) fn new(id: &str) -> Option<IdKey> {
        let s = id.as_bytes();
        let n = s.len();
        let w8 = |at: usize| {
            s.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let w4 = |at: usize| {
            s.get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
        };
        let b1 = |at: usize| s.get(at).map_or(0, |&b| u64::from(b));
        let (a, b, c) = match n {
            0 => (0, 0, 0),
            1..=3 => (b1(0) | b1(n / 2) << 8 | b1(n - 1) << 16, 0, 0),
            4..=7 => (w4(0) | w4(n - 4) << 32, 0, 0),
            8..=16 => (w8(0), w8(n - 8), 0),
            17..=24 => (w8(0), w8(8), w8(n - 8)),
            _ => return None,
        };
        Some(IdKey {
            len: n as u8,
            a,
            b,
            c,
        })
    }
}

impl std::hash::Hash for IdKey {
    /// One hasher round: the words folded (equality still compares all).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(
            self.a ^ self.b.rotate_left(21) ^ self.c.rotate_left(42) ^ u64::from(self.len),
        );
    }
}

/// An address as a hash key: two hasher rounds instead of `IpAddr`'s
/// discriminant, length prefix and byte loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct AddrKey {
    v6: bool,
    bits: u128,
}

impl From<IpAddr> for AddrKey {
    #[inline]
    fn from(ip: IpAddr) -> AddrKey {
        match ip {
            IpAddr::V4(a) => AddrKey {
                v6: false,
                bits: u128::from(u32::from(a)),
            },
            IpAddr::V6(a) => AddrKey {
                v6: true,
                bits: u128::from(a),
            },
        }
    }
}
