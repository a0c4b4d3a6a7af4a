//! The fields of a flow-log record that say where it was logged, kept once
//! per distinct value.
//!
//! Account, VPC, subnet, instance, `type`, region, zone and sublocation are
//! the same for every record of an interface (the type for each of its
//! address families), yet inline they were 216 of a record's 504 bytes. A
//! record holds them as one shared [`RecordContext`]; [`ContextCache`] hands
//! the records of a chunk the same copy for the same values, so what an
//! audit holds for them grows with distinct interfaces, not with records.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;

use super::{Flow, Text};

/// Where a record was logged. All fields are optional (`-` means absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct RecordContext {
    pub account_id: Option<Text>,
    pub vpc_id: Option<Text>,
    pub subnet_id: Option<Text>,
    pub instance_id: Option<Text>,
    /// `type`: IPv4, IPv6, EFA.
    pub flow_type: Option<Text>,
    pub region: Option<Text>,
    pub az_id: Option<Text>,
    pub sublocation_type: Option<Text>,
    pub sublocation_id: Option<Text>,
}

impl RecordContext {
    /// No field logged.
    pub const EMPTY: &'static RecordContext = &RecordContext {
        account_id: None,
        vpc_id: None,
        subnet_id: None,
        instance_id: None,
        flow_type: None,
        region: None,
        az_id: None,
        sublocation_type: None,
        sublocation_id: None,
    };

    /// As a record's `context`: `None` when no field is set (what parsing a
    /// record without any of them gives).
    pub fn shared(self) -> Option<Arc<RecordContext>> {
        (self != *Self::EMPTY).then(|| Arc::new(self))
    }
}

/// Gives records with equal contexts one shared copy. One per ingest worker
/// (or chunk): it remembers at most [`ContextCache::MAX`] distinct contexts,
/// so input with a new context on every line costs one small allocation
/// per record, never a growing table.
#[derive(Debug, Default)]
pub struct ContextCache {
    seen: HashSet<Arc<RecordContext>, foldhash::fast::RandomState>,
}

impl ContextCache {
    /// Distinct contexts remembered (an interface has one per address
    /// family; a chunk of a busy VPC's log a few hundred).
    pub const MAX: usize = 4096;

    /// Replace `flow`'s context by the copy already handed out for the same
    /// values, or remember this one.
    #[inline]
    pub fn share(&mut self, flow: &mut Flow) {
        let Some(ctx) = &flow.context else {
            return;
        };
        if let Some(seen) = self.seen.get(&**ctx) {
            if !Arc::ptr_eq(seen, ctx) {
                flow.context = Some(Arc::clone(seen));
            }
        } else if self.seen.len() < Self::MAX {
            self.seen.insert(Arc::clone(ctx));
        }
    }

    /// Distinct contexts remembered so far.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both records point at one copy.
    fn same(x: &Flow, y: &Flow) -> bool {
        matches!((&x.context, &y.context), (Some(p), Some(q)) if Arc::ptr_eq(p, q))
    }

    fn flow(vpc: &str, subnet: Option<&str>) -> Flow {
        let mut f = Flow::default();
        f.context_mut().vpc_id = Some(vpc.into());
        f.context_mut().subnet_id = subnet.map(Text::from);
        f
    }

    #[test]
    fn equal_contexts_share_one_copy_and_different_ones_do_not() {
        let mut cache = ContextCache::default();
        let mut a = flow("vpc-1", Some("subnet-1"));
        let mut b = flow("vpc-1", Some("subnet-1"));
        let mut c = flow("vpc-1", None);
        for f in [&mut a, &mut b, &mut c] {
            cache.share(f);
        }
        assert!(same(&a, &b));
        assert!(!same(&a, &c));
        assert!(c.context.is_some());
        assert_eq!(c.context().subnet_id, None);
        assert_eq!(cache.len(), 2);
        // Values are unchanged by sharing.
        assert_eq!(a, flow("vpc-1", Some("subnet-1")));
        assert_eq!(c.context().vpc_id.as_deref(), Some("vpc-1"));
    }

    #[test]
    fn a_shared_context_is_copied_before_it_changes() {
        let mut cache = ContextCache::default();
        let mut a = flow("vpc-1", None);
        let mut b = flow("vpc-1", None);
        cache.share(&mut a);
        cache.share(&mut b);
        b.context_mut().region = Some("eu-west-1".into());
        assert_eq!(a.context().region, None);
        assert_eq!(b.context().region.as_deref(), Some("eu-west-1"));
        assert_eq!(b.context().vpc_id.as_deref(), Some("vpc-1"));
    }

    #[test]
    fn the_cache_stops_remembering_at_its_bound() {
        let mut cache = ContextCache::default();
        for i in 0..ContextCache::MAX + 10 {
            let mut f = flow(&format!("vpc-{i}"), None);
            cache.share(&mut f);
            assert_eq!(
                f.context().vpc_id.as_deref(),
                Some(format!("vpc-{i}").as_str())
            );
        }
        assert_eq!(cache.len(), ContextCache::MAX);
        // Known values are still shared after the bound.
        let mut x = flow("vpc-0", None);
        let mut y = flow("vpc-0", None);
        cache.share(&mut x);
        cache.share(&mut y);
        assert!(same(&x, &y));
    }

    #[test]
    fn no_context_stays_none_and_reads_as_empty() {
        let mut cache = ContextCache::default();
        let mut f = Flow::default();
        cache.share(&mut f);
        assert!(f.context.is_none());
        assert_eq!(f.context(), RecordContext::EMPTY);
        assert_eq!(RecordContext::default().shared(), None);
        assert!(cache.is_empty());
    }
}
