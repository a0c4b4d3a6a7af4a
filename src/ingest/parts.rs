//! Values kept as the parts the ingest workers produced, in input order,
//! and read as one sequence.
//!
//! Joining the parts into one vector copies every value into fresh memory
//! while the parts still hold theirs: for a flow log of a million records
//! that is half a gigabyte more at the peak, and the time to fault it in.
//! [`Parts`] indexes them where they are instead.

use rayon::prelude::*;

/// Parts in order, indexed as one sequence.
#[derive(Debug, Clone)]
pub struct Parts<T> {
    /// The parts, in order; only the last may be empty (room reserved,
    /// nothing pushed yet).
    parts: Vec<Vec<T>>,
    /// `starts[k]`: the index of `parts[k]`'s first value.
    starts: Vec<usize>,
    len: usize,
}

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Parts {
            parts: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Parts<T> {
    /// The parts, in order (empty ones are dropped).
    pub fn new(mut parts: Vec<Vec<T>>) -> Parts<T> {
        parts.retain(|p| !p.is_empty());
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0usize;
        for p in &parts {
            starts.push(len);
            len += p.len();
        }
        Parts { parts, starts, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value at index `i` of the sequence.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        let k = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        let first = *self.starts.get(k)?;
        self.parts.get(k)?.get(i - first)
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        self.parts.iter().flatten()
    }

    /// The values in order, a part at a time.
    pub fn slices(&self) -> impl Iterator<Item = &[T]> {
        self.parts.iter().map(Vec::as_slice)
    }

    /// How many non-empty parts there are.
    pub fn part_count(&self) -> usize {
        self.parts.iter().filter(|p| !p.is_empty()).count()
    }

    /// `v` after the last value (into the last part).
    pub fn push(&mut self, v: T) {
        match self.parts.last_mut() {
            Some(p) => p.push(v),
            None => {
                self.starts.push(self.len);
                self.parts.push(vec![v]);
            }
        }
        self.len += 1;
    }

    /// Room for `additional` more values in the last part.
    pub fn reserve(&mut self, additional: usize) {
        match self.parts.last_mut() {
            Some(p) => p.reserve_exact(additional),
            None => {
                self.starts.push(self.len);
                self.parts.push(Vec::with_capacity(additional));
            }
        }
    }

    /// `later`'s values after these, its parts moved, not copied.
    pub fn append(&mut self, later: Parts<T>) {
        for p in later.parts {
            if p.is_empty() {
                continue;
            }
            // An empty last part (room reserved, nothing pushed) goes.
            if self.parts.last().is_some_and(Vec::is_empty) {
                self.parts.pop();
                self.starts.pop();
            }
            self.starts.push(self.len);
            self.len += p.len();
            self.parts.push(p);
        }
    }
}

impl crate::ingest::FlowSink for Parts<crate::flow::Flow> {
    fn push(&mut self, flow: crate::flow::Flow) {
        Parts::push(self, flow);
    }
    fn merge(&mut self, later: Self) {
        self.append(later);
    }
    fn reserve(&mut self, additional: usize) {
        Parts::reserve(self, additional);
    }
}

impl<T: Sync> Parts<T> {
    /// The values in parallel; `collect` keeps their order. Each part is
    /// split further, so a single large part still runs on every thread.
    pub fn par_iter(&self) -> impl ParallelIterator<Item = &T> {
        self.parts.par_iter().flat_map(|p| p.par_iter())
    }
}

impl<T> IntoIterator for Parts<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;

    /// The values in order, moved out; each part's memory is freed once
    /// its values are taken.
    fn into_iter(self) -> Self::IntoIter {
        self.parts.into_iter().flatten()
    }
}

impl<T> From<Vec<T>> for Parts<T> {
    fn from(v: Vec<T>) -> Parts<T> {
        Parts::new(vec![v])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parts_index_iterate_and_collect_as_one_sequence() {
        let p = Parts::new(vec![vec![0, 1], vec![], vec![2], vec![3, 4, 5], vec![]]);
        assert_eq!(p.len(), 6);
        assert_eq!(p.part_count(), 3);
        for i in 0..6 {
            assert_eq!(p.get(i), Some(&i), "{i}");
        }
        assert_eq!(p.get(6), None);
        assert_eq!(p.get(usize::MAX), None);
        assert_eq!(p.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        let par: Vec<usize> = p.par_iter().map(|x| x * 10).collect();
        assert_eq!(par, [0, 10, 20, 30, 40, 50]);
        // One big part is still split across threads, in order.
        let big = Parts::from((0..100_000).collect::<Vec<usize>>());
        let got: Vec<usize> = big.par_iter().copied().collect();
        assert_eq!(got, (0..100_000).collect::<Vec<_>>());
        // Filled and merged as a sink is: values in order, parts moved.
        let mut a: Parts<usize> = Parts::default();
        a.reserve(4);
        let mut b = Parts::default();
        b.reserve(2);
        b.push(0);
        b.push(1);
        let ptr = b.iter().next().map(|x| x as *const usize);
        a.append(b);
        a.append(Parts::default());
        let mut c = Parts::default();
        c.reserve(0);
        a.append(c);
        let mut d = Parts::default();
        for x in 2..5 {
            d.push(x);
        }
        a.append(d);
        a.push(5);
        assert_eq!(a.iter().next().map(|x| x as *const usize), ptr);
        assert_eq!(a.part_count(), 2);
        assert_eq!(a.len(), 6);
        assert_eq!(a.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            a.clone().into_iter().collect::<Vec<_>>(),
            [0, 1, 2, 3, 4, 5]
        );
        for i in 0..6 {
            assert_eq!(a.get(i), Some(&i), "{i}");
        }
        let empty: Parts<u8> = Parts::new(vec![vec![], vec![]]);
        assert!(empty.is_empty());
        assert_eq!(empty.get(0), None);
        assert_eq!(empty.iter().count(), 0);
    }
}
