//! Flattened longest-prefix-match tables ([`LpmTable`]) and two of them
//! merged into one ([`PairTable`]).
//!
//! The nested prefixes of a route table (or of ip-ranges) are cut into
//! disjoint address ranges, each mapped to the value that wins there, so a
//! lookup is a block-index load and, inside a block that several ranges
//! share, a binary search over a sorted `Vec` (IPv4 as `u32`, IPv6 as
//! `u128`). The tables are built with `prefix_trie`'s longest-prefix match,
//! so the semantics are the trie's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;

use super::keys::FxMap;

pub(super) const NONE: u32 = u32::MAX;

/// A longest-prefix-match table over IPv4 and IPv6, mapping an address to a
/// `u32` value (an index chosen by the builder).
#[derive(Debug, Clone, Default)]
pub struct LpmTable {
    v4_starts: Vec<u32>,
    v4_vals: Vec<u32>,
    /// For large tables: one entry per `2^v4_shift` addresses (about four
    /// blocks per range, /8 to /16 blocks). Most blocks lie inside one range:
    /// their entry is the value itself (one load per lookup); the others
    /// point at the starts inside them (see [`block_entry`]).
    v4_blocks: Vec<u32>,
    v4_shift: u32,
    v6_starts: Vec<u128>,
    v6_vals: Vec<u32>,
}

/// A block entry with this bit holds the value (low 31 bits; all ones for
/// none); without it, the low 24 bits are the index of the first start at or
/// after the block's first address and the next 7 bits how many starts lie
/// inside the block (`BLOCK_MANY`: search to the end).
const BLOCK_DIRECT: u32 = 1 << 31;
const BLOCK_NONE: u32 = BLOCK_DIRECT - 1;
const BLOCK_MANY: u32 = 127;
const BLOCK_MAX_STARTS: usize = 1 << 24;

/// Tables with more IPv4 ranges than this get the block index.
const V4_INDEX_MIN: usize = 48;

/// Block size of the index for `ranges` IPv4 ranges: a shift from 24 (/8
/// blocks, 256 of them) down to 16 (/16 blocks, 65,536, for tables of 16 k
/// ranges and more).
fn v4_index_shift(ranges: usize) -> u32 {
    let bits = (ranges
        .saturating_mul(4)
        .max(2)
        .next_power_of_two()
        .trailing_zeros())
    .clamp(8, 16);
    32 - bits
}

pub(super) fn v4_bounds(n: &Ipv4Net, out: &mut Vec<u32>) {
    out.push(u32::from(n.network()));
    if let Some(end) = u32::from(n.broadcast()).checked_add(1) {
        out.push(end);
    }
}

pub(super) fn v6_bounds(n: &Ipv6Net, out: &mut Vec<u128>) {
    out.push(u128::from(n.network()));
    if let Some(end) = u128::from(n.broadcast()).checked_add(1) {
        out.push(end);
    }
}

/// Range boundaries, sorted and unique, always starting with `zero`.
fn boundaries<K: Ord>(mut bounds: Vec<K>, zero: K) -> Vec<K> {
    bounds.push(zero);
    bounds.sort_unstable();
    bounds.dedup();
    bounds
}

fn flatten<K: Copy + Ord>(
    bounds: Vec<K>,
    zero: K,
    mut f: impl FnMut(K) -> u32,
) -> (Vec<K>, Vec<u32>) {
    let bounds = boundaries(bounds, zero);
    let mut starts = Vec::with_capacity(bounds.len());
    let mut vals: Vec<u32> = Vec::with_capacity(bounds.len());
    for b in bounds {
        let v = f(b);
        if vals.last() != Some(&v) {
            starts.push(b);
            vals.push(v);
        }
    }
    (starts, vals)
}

/// The block index over sorted `starts` (which begin with 0) and their
/// `vals`; empty when the table does not fit the encoding.
fn v4_blocks(starts: &[u32], vals: &[u32], shift: u32) -> Vec<u32> {
    if starts.len() >= BLOCK_MAX_STARTS || vals.iter().any(|&v| v != NONE && v >= BLOCK_NONE) {
        return Vec::new();
    }
    let blocks = 1u64 << (32 - shift);
    let mut out = Vec::with_capacity(usize::try_from(blocks).unwrap_or(0));
    // `pos`: the first start at or after the block's first address.
    let mut pos = 0usize;
    for h in 0..blocks {
        let lo = h << shift;
        let hi = (h + 1) << shift;
        while starts.get(pos).is_some_and(|&s| u64::from(s) < lo) {
            pos += 1;
        }
        let mut end = pos;
        while starts.get(end).is_some_and(|&s| u64::from(s) < hi) {
            end += 1;
        }
        let inner = end - pos;
        let at_start = starts.get(pos).is_some_and(|&s| u64::from(s) == lo);
        // The whole block is one range: the one starting at its first
        // address, or the one before it.
        let whole = match (inner, at_start) {
            (0, _) => pos.checked_sub(1),
            (1, true) => Some(pos),
            _ => None,
        };
        let entry = match whole.and_then(|k| vals.get(k)) {
            Some(&v) => BLOCK_DIRECT | v.min(BLOCK_NONE),
            None => {
                let n = u32::try_from(inner).unwrap_or(BLOCK_MANY).min(BLOCK_MANY);
                u32::try_from(pos).unwrap_or(0) | n << 24
            }
        };
        out.push(entry);
    }
    out
}

impl LpmTable {
    /// Build from `(prefix, value)` pairs. For identical prefixes the first
    /// pair wins: the caller orders by priority.
    pub fn build(entries: &[(IpNet, u32)]) -> LpmTable {
        let mut t4: PrefixMap<Ipv4Net, u32> = PrefixMap::new();
        let mut t6: PrefixMap<Ipv6Net, u32> = PrefixMap::new();
        let mut b4 = Vec::new();
        let mut b6 = Vec::new();
        for (net, v) in entries {
            match net.trunc() {
                IpNet::V4(n) => {
                    if t4.get(&n).is_none() {
                        t4.insert(n, *v);
                        v4_bounds(&n, &mut b4);
                    }
                }
                IpNet::V6(n) => {
                    if t6.get(&n).is_none() {
                        t6.insert(n, *v);
                        v6_bounds(&n, &mut b6);
                    }
                }
            }
        }
        Self::from_fns(b4, b6, |a| match a {
            IpAddr::V4(x) => t4.get_lpm(&Ipv4Net::from(x)).map_or(NONE, |(_, v)| *v),
            IpAddr::V6(x) => t6.get_lpm(&Ipv6Net::from(x)).map_or(NONE, |(_, v)| *v),
        })
    }

    /// Build from range boundaries and a function giving the value at each
    /// boundary (used to merge several tables by priority). `f` sees the
    /// IPv4 boundaries in order, then the IPv6 ones.
    pub(super) fn from_fns(
        b4: Vec<u32>,
        b6: Vec<u128>,
        mut f: impl FnMut(IpAddr) -> u32,
    ) -> LpmTable {
        let (v4_starts, v4_vals) = flatten(b4, 0, |a| f(IpAddr::V4(Ipv4Addr::from(a))));
        let (v6_starts, v6_vals) = flatten(b6, 0, |a| f(IpAddr::V6(Ipv6Addr::from(a))));
        let v4_shift = v4_index_shift(v4_starts.len());
        let v4_blocks = if v4_starts.len() > V4_INDEX_MIN {
            v4_blocks(&v4_starts, &v4_vals, v4_shift)
        } else {
            Vec::new()
        };
        LpmTable {
            v4_starts,
            v4_vals,
            v4_blocks,
            v4_shift,
            v6_starts,
            v6_vals,
        }
    }

    /// The value of the longest prefix containing `ip`.
    #[inline(always)]
    pub fn lookup(&self, ip: IpAddr) -> Option<u32> {
        let v = match ip {
            IpAddr::V4(a) => {
                let x = u32::from(a);
                let k = match self.v4_blocks.get((x >> self.v4_shift) as usize) {
                    Some(&e) if e & BLOCK_DIRECT != 0 => {
                        let v = e & !BLOCK_DIRECT;
                        return (v != BLOCK_NONE).then_some(v);
                    }
                    Some(&e) => {
                        let lo = (e & 0x00ff_ffff) as usize;
                        let n = e >> 24;
                        let inside = if n == BLOCK_MANY {
                            self.v4_starts.get(lo..)
                        } else {
                            self.v4_starts.get(lo..lo + n as usize)
                        };
                        inside
                            .map_or(0, |b| b.partition_point(|&s| s <= x))
                            .checked_add(lo)
                            .and_then(|k| k.checked_sub(1))
                    }
                    None => self.v4_starts.partition_point(|&s| s <= x).checked_sub(1),
                };
                k.and_then(|k| self.v4_vals.get(k))
            }
            IpAddr::V6(a) => {
                let x = u128::from(a);
                let i = self.v6_starts.partition_point(|&s| s <= x);
                i.checked_sub(1).and_then(|i| self.v6_vals.get(i))
            }
        };
        v.copied().filter(|&v| v != NONE)
    }

    /// Number of disjoint ranges (both families).
    pub fn ranges(&self) -> usize {
        self.v4_starts.len() + self.v6_starts.len()
    }
}

/// Two [`LpmTable`]s merged into one: a lookup answers both, as a pair of
/// values (`NONE` for none).
#[derive(Debug, Clone, Default)]
pub(super) struct PairTable {
    pub(super) table: LpmTable,
    /// Values fit 15 bits each: the merged table's value is the pair itself
    /// (no second load); else an index into `pairs`.
    pub(super) packed: bool,
    pub(super) pairs: Vec<(u32, u32)>,
}

const PACK_BITS: u32 = 15;
const PACK_NONE: u32 = (1 << PACK_BITS) - 1;

impl PairTable {
    pub(super) fn merge(a: &LpmTable, b: &LpmTable) -> PairTable {
        let fits = |t: &LpmTable| {
            t.v4_vals
                .iter()
                .chain(&t.v6_vals)
                .all(|&v| v == NONE || v < PACK_NONE)
        };
        let packed = fits(a) && fits(b);
        let (table, pairs) = LpmTable::merge(a, b, packed);
        PairTable {
            table,
            packed,
            pairs,
        }
    }

    #[inline(always)]
    pub(super) fn lookup(&self, ip: IpAddr) -> (u32, u32) {
        let unpack = |v: u32| if v == PACK_NONE { NONE } else { v };
        match self.table.lookup(ip) {
            Some(v) if self.packed => (unpack(v & PACK_NONE), unpack(v >> PACK_BITS)),
            Some(i) => self.pairs.get(i as usize).copied().unwrap_or((NONE, NONE)),
            None => (NONE, NONE),
        }
    }
}

impl LpmTable {
    /// Two tables as one: the merged table maps every address to
    /// `(a's value, b's value)` (`NONE` for none), packed into the value
    /// itself (`packed`: both fit [`PACK_BITS`]) or as an index into the
    /// returned pairs. One lookup then answers both.
    pub(super) fn merge(a: &LpmTable, b: &LpmTable, packed: bool) -> (LpmTable, Vec<(u32, u32)>) {
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let mut ids: FxMap<(u32, u32), u32> = FxMap::default();
        let pack = |v: u32| if v == NONE { PACK_NONE } else { v };
        let mut intern = |p: (u32, u32)| -> u32 {
            if packed {
                return pack(p.0) | pack(p.1) << PACK_BITS;
            }
            *ids.entry(p).or_insert_with(|| {
                pairs.push(p);
                u32::try_from(pairs.len() - 1).unwrap_or(NONE)
            })
        };
        let b4: Vec<u32> = a.v4_starts.iter().chain(&b.v4_starts).copied().collect();
        let b6: Vec<u128> = a.v6_starts.iter().chain(&b.v6_starts).copied().collect();
        let lk = |t: &LpmTable, x: IpAddr| t.lookup(x).unwrap_or(NONE);
        let table = LpmTable::from_fns(b4, b6, |x| intern((lk(a, x), lk(b, x))));
        (table, pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The longest prefix by scanning every entry (first of equal ones).
    fn linear_lpm(entries: &[(IpNet, u32)], a: IpAddr) -> Option<u32> {
        entries
            .iter()
            .filter(|(p, _)| p.contains(&a))
            .max_by_key(|(p, v)| (p.prefix_len(), std::cmp::Reverse(*v)))
            .map(|(_, v)| *v)
    }

    #[test]
    fn lpm_table_picks_the_longest_prefix() {
        let t = LpmTable::build(&[
            (n("0.0.0.0/0"), 0),
            (n("10.0.0.0/16"), 1),
            (n("10.0.1.0/24"), 2),
            (n("52.219.60.0/23"), 3),
            (n("2406:da60::/32"), 4),
        ]);
        assert_eq!(t.lookup(ip("8.8.8.8")), Some(0));
        assert_eq!(t.lookup(ip("10.0.0.5")), Some(1));
        assert_eq!(t.lookup(ip("10.0.1.5")), Some(2));
        assert_eq!(t.lookup(ip("10.0.2.0")), Some(1));
        assert_eq!(t.lookup(ip("52.219.61.255")), Some(3));
        assert_eq!(t.lookup(ip("52.219.62.0")), Some(0));
        assert_eq!(t.lookup(ip("2406:da60::1")), Some(4));
        assert_eq!(t.lookup(ip("2406:da61::1")), None);
        assert_eq!(t.lookup(ip("255.255.255.255")), Some(0));
    }

    #[test]
    fn lpm_table_without_default_has_gaps() {
        let t = LpmTable::build(&[(n("10.0.0.0/8"), 7), (n("255.255.255.255/32"), 8)]);
        assert_eq!(t.lookup(ip("9.255.255.255")), None);
        assert_eq!(t.lookup(ip("10.255.255.255")), Some(7));
        assert_eq!(t.lookup(ip("11.0.0.0")), None);
        assert_eq!(t.lookup(ip("255.255.255.255")), Some(8));
    }

    #[test]
    fn lpm_table_with_block_index_agrees_with_plain_search() {
        // Enough prefixes for the /16 index; compare against a linear LPM.
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut entries = Vec::new();
        for v in 0..400u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 8 + (x % 25) as u8;
            let a = Ipv4Addr::from((x >> 32) as u32);
            entries.push((IpNet::V4(Ipv4Net::new(a, len).unwrap().trunc()), v));
        }
        entries.push((n("0.0.0.0/0"), 999));
        let t = LpmTable::build(&entries);
        assert!(!t.v4_blocks.is_empty());
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = IpAddr::V4(Ipv4Addr::from((x >> 32) as u32));
            assert_eq!(t.lookup(a), linear_lpm(&entries, a), "{a}");
        }
        for edge in ["0.0.0.0", "255.255.255.255", "0.0.255.255", "0.1.0.0"] {
            let a = ip(edge);
            assert_eq!(t.lookup(a), linear_lpm(&entries, a), "{a}");
        }
    }

    #[test]
    fn lpm_table_first_of_identical_prefixes_wins() {
        let t = LpmTable::build(&[(n("10.0.0.0/8"), 1), (n("10.0.0.0/8"), 2)]);
        assert_eq!(t.lookup(ip("10.1.1.1")), Some(1));
    }
}
