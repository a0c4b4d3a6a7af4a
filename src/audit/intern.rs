//! Run-wide interning of the values many records share (the interface a
//! record was logged on, an egress flow's description): a row carries a
//! `u32` instead. Each worker keeps its own cache ([`LocalIds`]) and takes
//! the shared lock only for a value it has not seen.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

type State = foldhash::fast::RandomState;

/// Values and their ids for one run. Ids follow first sight, so they depend
/// on thread timing: use them for equality only, never for order.
#[derive(Debug)]
pub struct Interner<K> {
    inner: Mutex<(HashMap<K, u32, State>, Vec<K>)>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Interner {
            inner: Mutex::new((HashMap::default(), Vec::new())),
        }
    }
}

impl<K: Hash + Eq + Clone> Interner<K> {
    /// The id of `k`, given one if new.
    pub fn id(&self, k: &K) -> u32 {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&id) = g.0.get(k) {
            return id;
        }
        let id = u32::try_from(g.1.len()).unwrap_or(u32::MAX - 1);
        g.1.push(k.clone());
        g.0.insert(k.clone(), id);
        id
    }

    /// The values, indexed by id.
    pub fn into_values(self) -> Vec<K> {
        self.inner.into_inner().unwrap_or_else(|p| p.into_inner()).1
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.1.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A worker's cache of ids.
#[derive(Debug)]
pub struct LocalIds<K> {
    map: HashMap<K, u32, State>,
}

impl<K> Default for LocalIds<K> {
    fn default() -> Self {
        LocalIds {
            map: HashMap::default(),
        }
    }
}

/// Entries a worker's cache holds before it starts over (a log whose every
/// record is new must not grow it without bound).
const LOCAL_CAP: usize = 1 << 14;

impl<K: Hash + Eq + Clone> LocalIds<K> {
    pub fn id(&mut self, k: &K, shared: &Interner<K>) -> u32 {
        if let Some(&id) = self.map.get(k) {
            return id;
        }
        let id = shared.id(k);
        if self.map.len() >= LOCAL_CAP {
            self.map.clear();
        }
        self.map.insert(k.clone(), id);
        id
    }
}
