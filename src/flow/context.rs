//! The fields of a flow-log record that say where it was logged, kept once
//! per distinct value.
//!
//! Account, VPC, subnet, instance, `type`, region, zone and sublocation are
//! the same for every record of an interface (the type for each of its
//! address families), yet inline they were 216 of a record's 504 bytes. A
//! record holds them as one shared [`RecordContext`]; [`ContextCache`] hands
//! the records of a chunk the same copy for the same values, so what an
//! audit holds for them grows with distinct interfaces, not with records.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::Text;

/// Where a record was logged. All fields are optional (`-` means absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

    fn field_mut(&mut self, f: ContextField) -> &mut Option<Text> {
        match f {
            ContextField::AccountId => &mut self.account_id,
            ContextField::VpcId => &mut self.vpc_id,
            ContextField::SubnetId => &mut self.subnet_id,
            ContextField::InstanceId => &mut self.instance_id,
            ContextField::FlowType => &mut self.flow_type,
            ContextField::Region => &mut self.region,
            ContextField::AzId => &mut self.az_id,
            ContextField::SublocationType => &mut self.sublocation_type,
            ContextField::SublocationId => &mut self.sublocation_id,
        }
    }

    /// As a record's `context`: `None` when no field is set (what parsing a
    /// record without any of them gives).
    pub fn shared(self) -> Option<Arc<RecordContext>> {
        (self != *Self::EMPTY).then(|| Arc::new(self))
    }
}

/// One of [`RecordContext`]'s fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextField {
    AccountId,
    VpcId,
    SubnetId,
    InstanceId,
    FlowType,
    Region,
    AzId,
    SublocationType,
    SublocationId,
}

impl ContextField {
    const ALL: [ContextField; 9] = [
        ContextField::AccountId,
        ContextField::VpcId,
        ContextField::SubnetId,
        ContextField::InstanceId,
        ContextField::FlowType,
        ContextField::Region,
        ContextField::AzId,
        ContextField::SublocationType,
        ContextField::SublocationId,
    ];
}

/// Where a reader puts a record's context fields as it reads them.
pub trait ContextFields {
    /// Field `f` has value `tok` (a later value of the same field wins).
    fn set(&mut self, f: ContextField, tok: &str);
}

impl ContextFields for RecordContext {
    fn set(&mut self, f: ContextField, tok: &str) {
        *self.field_mut(f) = Some(Text::new(tok));
    }
}

/// A record's context fields as they are read: each as (field, length,
/// bytes), in the order the record gives them. The bytes are the key a
/// [`ContextCache`] finds the shared copy by, so a record whose context was
/// seen before costs one copy of its tokens and one hash, and no strings.
#[derive(Debug, Clone, Default)]
pub struct ContextScratch {
    key: Vec<u8>,
}

impl ContextFields for ContextScratch {
    #[inline]
    fn set(&mut self, f: ContextField, tok: &str) {
        if self.key.capacity() == 0 {
            // A real record's nine fields, at once.
            self.key.reserve(192);
        }
        let len = u32::try_from(tok.len()).unwrap_or(u32::MAX);
        self.key.push(f as u8);
        self.key.extend_from_slice(&len.to_le_bytes());
        self.key
            .extend_from_slice(tok.as_bytes().get(..len as usize).unwrap_or_default());
    }
}

impl ContextScratch {
    pub fn is_empty(&self) -> bool {
        self.key.is_empty()
    }

    pub fn clear(&mut self) {
        self.key.clear();
    }

    /// The fields read so far.
    pub fn context(&self) -> RecordContext {
        let mut c = RecordContext::default();
        let mut rest = self.key.as_slice();
        while let Some((&tag, after)) = rest.split_first() {
            let Some((len, after)) = after.split_first_chunk::<4>() else {
                break;
            };
            let len = u32::from_le_bytes(*len) as usize;
            let (Some(value), Some(field)) = (
                after.get(..len),
                ContextField::ALL.get(usize::from(tag)).copied(),
            ) else {
                break;
            };
            // Pushed from `&str` tokens: always text.
            if let Ok(v) = std::str::from_utf8(value) {
                *c.field_mut(field) = Some(Text::new(v));
            }
            rest = after.get(len..).unwrap_or_default();
        }
        c
    }
}

/// Gives records with equal contexts one shared copy. One per ingest worker
/// (or chunk): it remembers at most [`ContextCache::MAX`] distinct contexts
/// (of at most [`ContextCache::MAX_KEY`] bytes each), so input with a new
/// context on every line costs one small allocation per record, never a
/// growing table.
///
/// Contexts are found by the bytes their records gave (see
/// [`ContextScratch`]): equal bytes are equal values; equal values written
/// in another field order (after a header changes the layout) are only not
/// shared.
#[derive(Debug)]
pub struct ContextCache {
    seen: HashMap<Box<[u8]>, Arc<RecordContext>, foldhash::fast::RandomState>,
    remember: bool,
}

impl Default for ContextCache {
    fn default() -> Self {
        ContextCache {
            seen: HashMap::default(),
            remember: true,
        }
    }
}

impl ContextCache {
    /// Distinct contexts remembered (an interface has one per address
    /// family; a chunk of a busy VPC's log a few hundred).
    pub const MAX: usize = 4096;
    /// Longest context remembered (the nine fields of a real record take
    /// about 150 bytes).
    pub const MAX_KEY: usize = 1024;

    /// A cache that remembers nothing (for one record read on its own):
    /// every context is a copy of its own.
    pub fn unshared() -> ContextCache {
        ContextCache {
            seen: HashMap::default(),
            remember: false,
        }
    }

    /// The shared copy of the context in `scratch` (`None` when it holds no
    /// field): the one already handed out for the same bytes, else a new
    /// one, remembered within the bounds. Leaves `scratch` empty.
    #[inline]
    pub fn share(&mut self, scratch: &mut ContextScratch) -> Option<Arc<RecordContext>> {
        if scratch.is_empty() {
            return None;
        }
        let shared = match self.seen.get(scratch.key.as_slice()) {
            Some(seen) => Arc::clone(seen),
            None => {
                let new = Arc::new(scratch.context());
                if self.remember
                    && self.seen.len() < Self::MAX
                    && scratch.key.len() <= Self::MAX_KEY
                {
                    self.seen
                        .insert(scratch.key.clone().into_boxed_slice(), Arc::clone(&new));
                }
                new
            }
        };
        scratch.clear();
        Some(shared)
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
    use crate::flow::Flow;

    fn scratch(fields: &[(ContextField, &str)]) -> ContextScratch {
        let mut s = ContextScratch::default();
        for (f, v) in fields {
            s.set(*f, v);
        }
        s
    }

    fn ctx(vpc: &str, subnet: Option<&str>) -> ContextScratch {
        let mut s = scratch(&[(ContextField::VpcId, vpc)]);
        if let Some(n) = subnet {
            s.set(ContextField::SubnetId, n);
        }
        s
    }

    /// Both point at one copy.
    fn same(x: &Option<Arc<RecordContext>>, y: &Option<Arc<RecordContext>>) -> bool {
        matches!((x, y), (Some(p), Some(q)) if Arc::ptr_eq(p, q))
    }

    #[test]
    fn the_scratch_gives_back_every_field_last_value_winning() {
        use ContextField as F;
        let all = [
            (F::AccountId, "123456789012"),
            (F::VpcId, "vpc-0a1b2c3d4e5f60718"),
            (F::SubnetId, "subnet-e2e64c3e094d2c3a6"),
            (F::InstanceId, "i-41cf5192bbf67da14"),
            (F::FlowType, "IPv4"),
            (F::Region, "eu-west-1"),
            (F::AzId, "euw1-az3"),
            (F::SublocationType, "outpost"),
            (F::SublocationId, "op-0123456789abcdef0"),
        ];
        let c = scratch(&all).context();
        assert_eq!(
            c,
            RecordContext {
                account_id: Some("123456789012".into()),
                vpc_id: Some("vpc-0a1b2c3d4e5f60718".into()),
                subnet_id: Some("subnet-e2e64c3e094d2c3a6".into()),
                instance_id: Some("i-41cf5192bbf67da14".into()),
                flow_type: Some("IPv4".into()),
                region: Some("eu-west-1".into()),
                az_id: Some("euw1-az3".into()),
                sublocation_type: Some("outpost".into()),
                sublocation_id: Some("op-0123456789abcdef0".into()),
            }
        );
        let twice = scratch(&[(F::Region, "a"), (F::AzId, "é z"), (F::Region, "b")]).context();
        assert_eq!(twice.region.as_deref(), Some("b"));
        assert_eq!(twice.az_id.as_deref(), Some("é z"));
        assert_eq!(
            ContextScratch::default().context(),
            RecordContext::default()
        );
    }

    #[test]
    fn equal_contexts_share_one_copy_and_different_ones_do_not() {
        let mut cache = ContextCache::default();
        let mut s = ctx("vpc-1", Some("subnet-1"));
        let a = cache.share(&mut s);
        assert!(s.is_empty(), "left empty");
        let b = cache.share(&mut ctx("vpc-1", Some("subnet-1")));
        let c = cache.share(&mut ctx("vpc-1", None));
        // A value that only ends like another's.
        let d = cache.share(&mut ctx("vpc-1", Some("subnet-11")));
        assert!(same(&a, &b));
        assert!(!same(&a, &c));
        assert!(!same(&a, &d));
        assert_eq!(cache.len(), 3);
        assert_eq!(
            a.as_deref(),
            Some(&ctx("vpc-1", Some("subnet-1")).context())
        );
        assert_eq!(c.as_deref(), Some(&ctx("vpc-1", None).context()));
        assert_eq!(
            d.as_deref().and_then(|c| c.subnet_id.as_deref()),
            Some("subnet-11")
        );
        // The same value in another field is another context.
        let r = cache.share(&mut scratch(&[(ContextField::Region, "x")]));
        let z = cache.share(&mut scratch(&[(ContextField::AzId, "x")]));
        assert_ne!(r, z);
        assert_eq!(z.as_deref().and_then(|c| c.az_id.as_deref()), Some("x"));
    }

    #[test]
    fn a_shared_context_is_copied_before_it_changes() {
        let mut cache = ContextCache::default();
        let mut a = Flow {
            context: cache.share(&mut ctx("vpc-1", None)),
            ..Flow::default()
        };
        let mut b = Flow {
            context: cache.share(&mut ctx("vpc-1", None)),
            ..Flow::default()
        };
        assert!(same(&a.context, &b.context));
        b.context_mut().region = Some("eu-west-1".into());
        assert_eq!(a.context().region, None);
        assert_eq!(b.context().region.as_deref(), Some("eu-west-1"));
        assert_eq!(b.context().vpc_id.as_deref(), Some("vpc-1"));
        a.context_mut().az_id = Some("euw1-az1".into());
        assert_eq!(a.context().vpc_id.as_deref(), Some("vpc-1"));
    }

    #[test]
    fn the_cache_stops_remembering_at_its_bounds() {
        let mut cache = ContextCache::default();
        for i in 0..ContextCache::MAX + 10 {
            let name = format!("vpc-{i}");
            let got = cache.share(&mut ctx(&name, None));
            assert_eq!(got.as_deref(), Some(&ctx(&name, None).context()));
        }
        assert_eq!(cache.len(), ContextCache::MAX);
        // Known values are still shared after the bound, new ones are not.
        let x = cache.share(&mut ctx("vpc-0", None));
        let y = cache.share(&mut ctx("vpc-0", None));
        assert!(same(&x, &y));
        let p = cache.share(&mut ctx("vpc-new", None));
        let q = cache.share(&mut ctx("vpc-new", None));
        assert!(!same(&p, &q));
        assert_eq!(p, q);
        // A long context is never remembered.
        let mut fresh = ContextCache::default();
        let long = "v".repeat(ContextCache::MAX_KEY);
        let l1 = fresh.share(&mut ctx(&long, None));
        let l2 = fresh.share(&mut ctx(&long, None));
        assert!(!same(&l1, &l2));
        assert!(fresh.is_empty());
        assert_eq!(
            l1.as_deref().and_then(|c| c.vpc_id.as_deref()),
            Some(long.as_str())
        );
    }

    #[test]
    fn an_unshared_cache_remembers_nothing() {
        let mut cache = ContextCache::unshared();
        let a = cache.share(&mut ctx("vpc-1", None));
        let b = cache.share(&mut ctx("vpc-1", None));
        assert_eq!(a, b);
        assert!(!same(&a, &b));
        assert!(cache.is_empty());
    }

    #[test]
    fn no_context_stays_none_and_reads_as_empty() {
        let mut cache = ContextCache::default();
        assert_eq!(cache.share(&mut ContextScratch::default()), None);
        assert!(cache.is_empty());
        let f = Flow::default();
        assert_eq!(f.context(), RecordContext::EMPTY);
        assert_eq!(RecordContext::default().shared(), None);
    }
}
