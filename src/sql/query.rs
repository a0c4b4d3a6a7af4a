//! The CTE chain: the native classifier ([`crate::classify`]) written as
//! SQL, step by step, and the three results built on it.
//!
//! | CTE | native step |
//! |---|---|
//! | `src`, `recs` | the records that are flows (NODATA/SKIPDATA left out), each distinct record once with its count `n` |
//! | `keyed`, `snap` | address keys, the flow time (start, else end, in ms) and the snapshot of that time (`snapshot_at`) |
//! | `enis_of` | the interface's ENI, its own addresses, the ENIs owning source, destination and peer (`eni_at`, gated) |
//! | `roled` | `decide_role`: transit, egress, reply, inbound and the host ENI |
//! | `route_hit` | `RtIndex::lookup`: the longest prefix, then `priority`, among the routes valid at the flow's time |
//! | `pl_hit`, `range_hit` | `aws_ranges`: the most specific prefix-list entry; ip-ranges by class, then prefix |
//! | `egress` | `route` and `attribute`: path, endpoint, service, resolver traffic (`dns`), traffic-path check |
//! | `cand`, `answered`, `replied`, `ingress_hosts` | `classify_conversations`: replies to their egress group (±60 s / +600 s), settled outcomes |
//! | `classified` | each egress flow with its outcome and evidence |

use std::fmt::Write as _;

use super::SqlOptions;
use crate::classify::{PathClass, TrafficPathVerdict, rules};
use crate::topology::export::TIME_MAX;

/// The columns that make a record what it is to the classifier (a record
/// is grouped with its identical copies on them).
const ID: [&str; 18] = [
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start_s",
    "end_s",
    "action",
    "tcp_flags",
    "flow_direction",
    "traffic_path",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
];

pub(super) struct Query<'a> {
    o: &'a SqlOptions,
}

/// `yyyy/MM/dd` of unix seconds (UTC).
fn day_of(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    t.strftime("%Y/%m/%d").to_string()
}

impl<'a> Query<'a> {
    pub(super) fn new(o: &'a SqlOptions) -> Query<'a> {
        Query { o }
    }

    fn t(&self, table: &str) -> String {
        match &self.o.topology_schema {
            Some(s) => format!("{s}.{table}"),
            None => table.to_owned(),
        }
    }

    fn string_type(&self) -> &'static str {
        match self.o.dialect {
            super::Dialect::Spark => "STRING",
            _ => "VARCHAR",
        }
    }

    fn str_of(&self, e: &str) -> String {
        format!("CAST({e} AS {})", self.string_type())
    }

    /// The filter of `src`: flows only, `--since/--until` on the flow's time
    /// and, when a day partition is named, on it (partition pruning).
    fn where_clause(&self) -> String {
        let d = self.o.dialect;
        let mut w =
            vec!["(log_status IS NULL OR log_status NOT IN ('NODATA', 'SKIPDATA'))".to_owned()];
        let time = format!(
            "COALESCE(CAST({} AS BIGINT), CAST({} AS BIGINT))",
            d.ident("start"),
            d.ident("end")
        );
        if let Some(s) = self.o.since {
            w.push(format!("({time} IS NULL OR {time} >= {s})"));
        }
        if let Some(u) = self.o.until {
            w.push(format!("({time} IS NULL OR {time} <= {u})"));
        }
        if let Some(p) = &self.o.partition_column {
            let p = d.ident(p);
            if let Some(s) = self.o.since {
                w.push(format!("{p} >= '{}'", day_of(s)));
            }
            if let Some(u) = self.o.until {
                w.push(format!("{p} <= '{}'", day_of(u)));
            }
        }
        w.join("\n    AND ")
    }

    /// The CASE giving the traffic-path check's verdict from `code` and
    /// `path`, generated from the native table ([`rules::check_traffic_path`]).
    fn traffic_path_check(&self) -> String {
        let mut s = String::from("CASE WHEN traffic_path IS NULL THEN NULL");
        for code in 0u8..=8 {
            for p in PathClass::ALL {
                let v = match rules::check_traffic_path(code, p).verdict {
                    TrafficPathVerdict::Agrees => "agrees",
                    TrafficPathVerdict::Disagrees => "disagrees",
                    TrafficPathVerdict::AmbiguousResolved => "ambiguous-resolved",
                    TrafficPathVerdict::Unverifiable => continue,
                };
                let _ = write!(
                    s,
                    " WHEN traffic_path = {code} AND path = '{}' THEN '{v}'",
                    p.as_str()
                );
            }
        }
        s.push_str(" ELSE 'unverifiable' END");
        s
    }

    fn traffic_path_meaning(&self) -> String {
        let mut s = String::from("CASE traffic_path");
        for code in 1u8..=8 {
            let _ = write!(
                s,
                " WHEN {code} THEN '{}'",
                rules::traffic_path_meaning(code)
            );
        }
        s.push_str(" ELSE 'unknown code' END");
        s
    }

    /// The CTE chain up to `classified` (one row per distinct egress record).
    fn ctes(&self) -> String {
        let d = self.o.dialect;
        let ids = ID.join(", ");
        let synack = format!(
            "(tcp_flags IS NOT NULL AND {} = 18)",
            d.bit_and("tcp_flags", "18")
        );
        let synonly = format!(
            "(tcp_flags IS NOT NULL AND {} <> 0 AND {} = 0)",
            d.bit_and("tcp_flags", "2"),
            d.bit_and("tcp_flags", "16")
        );
        let open = |gate: &str| format!("({gate} IS NULL OR k.t_ms IS NULL OR k.t_ms >= {gate})");
        let checked = |k: &str| format!("CASE WHEN length({k}) = 32 THEN {k} END");
        let rid = ID
            .iter()
            .map(|c| format!("COALESCE({}, '~')", self.str_of(c)))
            .collect::<Vec<_>>()
            .join(", '|', ");
        let egress_or_reply = format!("CASE WHEN {synack} THEN 'reply' ELSE 'egress' END");
        let inbound_or_reply = format!("CASE WHEN {synonly} THEN 'inbound' ELSE 'reply' END");
        let host_cols = [
            "eni_id",
            "role",
            "instance_id",
            "subnet_id",
            "route_table_id",
            "host_instance_id",
            "host_eni",
            "host_address",
            "host_subnet_id",
            "host_enis",
            "host_addresses",
            "host_subnet_ids",
        ];
        let pick = host_cols
            .iter()
            .map(|c| {
                format!(
                    "CASE host_from WHEN 'iface' THEN i_{c} WHEN 'src' THEN s_{c} WHEN 'dst' THEN d_{c} END AS h_{c}"
                )
            })
            .collect::<Vec<_>>()
            .join(",\n    ");
        let eni_cols = |alias: &str, p: &str| {
            host_cols
                .iter()
                .map(|c| format!("{alias}.{c} AS {p}_{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let service_label = |e: &str| {
            format!("CASE WHEN upper({e}) IN ('AMAZON', 'EC2') THEN 'aws' ELSE lower({e}) END")
        };
        let resolver4 = crate::topology::export::addr_key([169, 254, 169, 253].into());
        let resolver6 =
            crate::topology::export::addr_key([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x253].into());
        let evidence = format!(
            "concat(\
               CASE WHEN path = 'interface-endpoint' THEN concat(COALESCE(peer_addr, 'destination'), ' is an ENI of ', COALESCE(endpoint_id, 'an interface endpoint')) \
                    WHEN r_route_table_id IS NOT NULL THEN concat(r_route_table_id, ' ', r_destination, ' -> ', r_target_id, CASE WHEN r_blackhole THEN ' (blackhole)' ELSE '' END, '; ') \
                    WHEN h_route_table_id IS NOT NULL THEN concat(h_route_table_id, ': no route to ', COALESCE(peer_addr, 'the destination'), '; ') \
                    WHEN path = 'unknown' THEN 'the host is not in the topology; ' ELSE '' END, \
               CASE WHEN path = 'interface-endpoint' THEN '; ' ELSE '' END, \
               CASE WHEN service = 'dns' THEN 'service dns: the VPC''s Amazon-provided resolver' \
                    ELSE concat('service ', service, ' by ', attributed_by, \
                                CASE WHEN attributed_by = 'prefix list' THEN concat(' ', pl_prefix_list_id) ELSE '' END, \
                                CASE WHEN service = 'aws' THEN ' (AWS range, service unknown)' ELSE '' END) END, \
               CASE WHEN traffic_path_check IS NULL THEN '' \
                    ELSE concat('; traffic-path ', {tp}, ' (', traffic_path_meaning, ') ', traffic_path_check) END)",
            tp = self.str_of("traffic_path"),
        );
        format!(
            "WITH
src AS (
  -- The records that are flows; '-' (absent) as NULL.
  SELECT
    NULLIF(interface_id, '-') AS interface_id,
    NULLIF(srcaddr, '-') AS srcaddr,
    NULLIF(dstaddr, '-') AS dstaddr,
    NULLIF(pkt_srcaddr, '-') AS pkt_srcaddr,
    NULLIF(pkt_dstaddr, '-') AS pkt_dstaddr,
    CAST(srcport AS BIGINT) AS srcport,
    CAST(dstport AS BIGINT) AS dstport,
    CAST(protocol AS BIGINT) AS protocol,
    CAST(packets AS BIGINT) AS packets,
    CAST(bytes AS BIGINT) AS bytes,
    CAST({start} AS BIGINT) AS start_s,
    CAST({end} AS BIGINT) AS end_s,
    upper(NULLIF(action, '-')) AS action,
    CAST(tcp_flags AS BIGINT) AS tcp_flags,
    lower(NULLIF(flow_direction, '-')) AS flow_direction,
    CAST(traffic_path AS BIGINT) AS traffic_path,
    NULLIF(pkt_src_aws_service, '-') AS pkt_src_aws_service,
    NULLIF(pkt_dst_aws_service, '-') AS pkt_dst_aws_service
  FROM {flows}
  WHERE {where_}
),
recs AS (
  -- Each distinct record once, with how many times it occurs.
  SELECT {ids}, count(*) AS n FROM src GROUP BY {ids}
),
keyed0 AS (
  SELECT recs.*,
    {src_key} AS src_key0,
    {dst_key} AS dst_key0,
    {pdst_key} AS pdst_key0,
    CASE WHEN start_s IS NOT NULL THEN start_s * 1000 ELSE end_s * 1000 END AS t_ms,
    concat({rid}) AS rid,
    COALESCE(interface_id, '') AS hk
  FROM recs
),
keyed1 AS (
  SELECT keyed0.*,
    {src_chk} AS src_key,
    {dst_chk} AS dst_key,
    COALESCE({pdst_chk}, {dst_chk}) AS peer_key,
    CASE WHEN {pdst_chk} IS NOT NULL THEN pkt_dstaddr ELSE dstaddr END AS peer_addr
  FROM keyed0
),
delivered AS (
  -- One connection counts once: a record delivered twice (same interface,
  -- 5-tuple, start, end, packets, bytes) is kept once.
  SELECT * FROM (
    SELECT keyed1.*,
      CASE WHEN src_key IS NULL OR dst_key IS NULL OR protocol IS NULL THEN 1
           ELSE row_number() OVER (PARTITION BY hk, src_key, dst_key, COALESCE(srcport, 0), COALESCE(dstport, 0),
                                   protocol, start_s, end_s, packets, bytes ORDER BY rid) END AS delivery
    FROM keyed1
  ) x WHERE delivery = 1
),
keyed AS (
  -- The snapshot of the flow's time (the latest for a flow without one).
  SELECT k.*, s.snapshot,
    CASE WHEN k.src_key IS NULL OR k.dst_key IS NULL OR k.protocol IS NULL THEN k.n ELSE 1 END AS copies,
    CASE WHEN substr(k.peer_key, 1, 24) = '00000000000000000000FFFF' THEN 4 ELSE 6 END AS peer_family,
    CASE WHEN substr(k.peer_key, 1, 24) = '00000000000000000000FFFF' THEN substr(k.peer_key, 25, 2) ELSE substr(k.peer_key, 1, 2) END AS peer_bucket,
    COALESCE(k.t_ms, -1) AS t_key
  FROM delivered k
  LEFT JOIN {snapshots} s
    ON COALESCE(k.t_ms, {tmax_flow}) >= s.valid_from_ms AND COALESCE(k.t_ms, {tmax_flow}) < s.valid_until_ms
),
enis_of AS (
  SELECT k.*,
    {i_cols}, i.eni_id AS i_eni,
    ia_s.eni_id AS ia_s_eni, ia_d.eni_id AS ia_d_eni,
    {s_cols}, {d_cols},
    pe.eni_id AS pe_eni, pe.endpoint_id AS pe_endpoint_id, pe.valid_from_ms AS pe_valid_from_ms
  FROM keyed k
  LEFT JOIN {enis} i ON i.snapshot = k.snapshot AND i.eni_id = k.interface_id
  LEFT JOIN {hosts} ia_s ON ia_s.snapshot = k.snapshot AND ia_s.eni_id = k.interface_id AND ia_s.is_private AND ia_s.address_key = k.src_key
  LEFT JOIN {hosts} ia_d ON ia_d.snapshot = k.snapshot AND ia_d.eni_id = k.interface_id AND ia_d.is_private AND ia_d.address_key = k.dst_key
  LEFT JOIN {hosts} sh ON sh.snapshot = k.snapshot AND sh.is_owner AND sh.address_key = k.src_key AND {sh_open}
  LEFT JOIN {hosts} dh ON dh.snapshot = k.snapshot AND dh.is_owner AND dh.address_key = k.dst_key AND {dh_open}
  LEFT JOIN {hosts} pe ON pe.snapshot = k.snapshot AND pe.is_owner AND pe.role = 'interface-endpoint' AND pe.address_key = k.peer_key
),
roled0 AS (
  -- The record's role and which ENI is the host (decide_role).
  SELECT e.*,
    CASE
      WHEN i_role IN ('nat-gateway', 'interface-endpoint') THEN 'transit'
      WHEN flow_direction = 'egress' THEN {egress_or_reply}
      WHEN flow_direction = 'ingress' THEN {inbound_or_reply}
      WHEN i_eni IS NOT NULL AND ia_s_eni IS NOT NULL THEN {egress_or_reply}
      WHEN i_eni IS NOT NULL AND ia_d_eni IS NOT NULL THEN {inbound_or_reply}
      WHEN s_ok = 1 AND d_ok = 0 THEN {egress_or_reply}
      WHEN d_ok = 1 AND s_ok = 0 THEN {inbound_or_reply}
      ELSE {egress_or_reply}
    END AS role,
    CASE
      WHEN i_role IN ('nat-gateway', 'interface-endpoint') THEN 'iface'
      WHEN flow_direction = 'egress' THEN CASE WHEN i_eni IS NOT NULL THEN 'iface' WHEN s_eni_id IS NOT NULL THEN 'src' END
      WHEN flow_direction = 'ingress' THEN CASE WHEN i_eni IS NOT NULL THEN 'iface' WHEN d_eni_id IS NOT NULL THEN 'dst' END
      WHEN i_eni IS NOT NULL AND (ia_s_eni IS NOT NULL OR ia_d_eni IS NOT NULL) THEN 'iface'
      WHEN s_ok = 1 AND d_ok = 0 THEN 'src'
      WHEN d_ok = 1 AND s_ok = 0 THEN 'dst'
      WHEN {synack} THEN CASE WHEN d_ok = 1 THEN 'dst' WHEN s_ok = 1 THEN 'src' END
      ELSE CASE WHEN s_ok = 1 THEN 'src' WHEN d_ok = 1 THEN 'dst' END
    END AS host_from
  FROM (
    SELECT enis_of.*,
      CASE WHEN s_eni_id IS NOT NULL AND s_role IN ('instance', 'other') THEN 1 ELSE 0 END AS s_ok,
      CASE WHEN d_eni_id IS NOT NULL AND d_role IN ('instance', 'other') THEN 1 ELSE 0 END AS d_ok
    FROM enis_of
  ) e
),
roled AS (
  SELECT roled0.*,
    {pick}
  FROM roled0
),
route_keys AS (
  SELECT DISTINCT snapshot, h_route_table_id, peer_family, peer_key, t_ms, t_key
  FROM roled
  WHERE role = 'egress' AND h_eni_id IS NOT NULL AND h_route_table_id IS NOT NULL AND peer_key IS NOT NULL
),
route_hit AS (
  -- The longest prefix valid at the flow's time; identical prefixes by priority.
  SELECT * FROM (
    SELECT q.snapshot, q.h_route_table_id, q.peer_key, q.t_key,
      r.route_table_id AS r_route_table_id, r.destination AS r_destination, r.target_id AS r_target_id,
      r.path AS r_path, r.blackhole AS r_blackhole, r.gate_endpoint_id AS r_gate_endpoint_id,
      row_number() OVER (PARTITION BY q.snapshot, q.h_route_table_id, q.peer_key, q.t_key ORDER BY r.prefix_len DESC, r.priority) AS rn
    FROM route_keys q
    JOIN {routes} r
      ON r.snapshot = q.snapshot AND r.route_table_id = q.h_route_table_id AND r.family = q.peer_family
      AND q.peer_key BETWEEN r.first_key AND r.last_key
      AND (r.valid_from_ms IS NULL OR q.t_ms IS NULL OR q.t_ms >= r.valid_from_ms)
  ) x WHERE rn = 1
),
peer_keys AS (
  SELECT DISTINCT snapshot, peer_family, peer_bucket, peer_key FROM roled WHERE role = 'egress' AND peer_key IS NOT NULL
),
pl_hit AS (
  -- The most specific entry of a managed prefix list naming a service.
  SELECT * FROM (
    SELECT q.snapshot, q.peer_key, p.prefix_list_id AS pl_prefix_list_id, p.service AS pl_service,
      row_number() OVER (PARTITION BY q.snapshot, q.peer_key ORDER BY p.prefix_len DESC, p.priority) AS rn
    FROM peer_keys q
    JOIN {pls} p
      ON p.snapshot = q.snapshot AND p.family = q.peer_family AND p.bucket = q.peer_bucket
      AND q.peer_key BETWEEN p.first_key AND p.last_key
  ) x WHERE rn = 1
),
range_hit AS (
  -- ip-ranges: the first class (S3/DYNAMODB, services, EC2, AMAZON) with a match, then the longest prefix.
  SELECT * FROM (
    SELECT q.peer_key, a.service AS ar_service,
      row_number() OVER (PARTITION BY q.peer_key ORDER BY a.class_rank, a.prefix_len DESC, a.priority) AS rn
    FROM (SELECT DISTINCT peer_family, peer_bucket, peer_key FROM peer_keys) q
    JOIN {ranges} a
      ON a.family = q.peer_family AND a.bucket = q.peer_bucket
      AND q.peer_key BETWEEN a.first_key AND a.last_key
  ) x WHERE rn = 1
),
vpc_hit AS (
  -- Peers inside a VPC of the snapshot (east-west traffic: service vpc).
  SELECT DISTINCT q.snapshot, q.peer_key
  FROM peer_keys q
  JOIN {vpcs} v
    ON v.snapshot = q.snapshot AND v.family = q.peer_family
    AND q.peer_key BETWEEN v.first_key AND v.last_key
),
egress0 AS (
  -- The path (route) and the service (attribute) of each egress record.
  SELECT g.*,
    CASE
      WHEN g.snapshot IS NULL OR g.h_eni_id IS NULL OR g.peer_key IS NULL THEN 'unknown'
      WHEN g.via_ie = 1 THEN 'interface-endpoint'
      WHEN g.h_route_table_id IS NULL THEN 'unknown'
      WHEN g.r_route_table_id IS NULL THEN 'no-route'
      WHEN g.r_blackhole THEN 'no-route'
      ELSE g.r_path
    END AS path,
    CASE
      WHEN g.via_ie = 1 AND g.ep_service IS NOT NULL THEN 'endpoint ENI'
      WHEN g.pl_service IS NOT NULL THEN 'prefix list'
      WHEN g.ar_service IS NOT NULL THEN 'ip-ranges'
      WHEN g.pkt_dst_aws_service IS NOT NULL THEN 'flow-log pkt-dst-aws-service'
      WHEN g.in_vpc = 1 THEN 'the VPC''s address range'
      ELSE 'nothing'
    END AS attributed_by,
    CASE
      WHEN g.is_resolver = 1 THEN 'dns'
      WHEN g.via_ie = 1 AND g.ep_service IS NOT NULL THEN g.ep_service
      WHEN g.pl_service IS NOT NULL THEN g.pl_service
      WHEN g.ar_service IS NOT NULL THEN g.ar_service
      WHEN g.pkt_dst_aws_service IS NOT NULL THEN {pkt_label}
      WHEN g.in_vpc = 1 THEN 'vpc'
      ELSE 'external'
    END AS service
  FROM (
    SELECT k.*,
      CASE WHEN k.h_eni_id IS NOT NULL AND k.pe_eni IS NOT NULL AND {pe_open} THEN 1 ELSE 0 END AS via_ie,
      rh.r_route_table_id, rh.r_destination, rh.r_target_id, rh.r_path, rh.r_blackhole, rh.r_gate_endpoint_id,
      pl.pl_prefix_list_id, pl.pl_service, ra.ar_service,
      ep.service AS ep_service,
      CASE WHEN vh.peer_key IS NOT NULL THEN 1 ELSE 0 END AS in_vpc,
      CASE WHEN k.dstport = 53 AND (k.peer_key IN ('{resolver4}', '{resolver6}') OR vr.resolver_key IS NOT NULL) THEN 1 ELSE 0 END AS is_resolver
    FROM roled k
    LEFT JOIN route_hit rh
      ON rh.snapshot = k.snapshot AND rh.h_route_table_id = k.h_route_table_id AND rh.peer_key = k.peer_key AND rh.t_key = k.t_key
    LEFT JOIN pl_hit pl ON pl.snapshot = k.snapshot AND pl.peer_key = k.peer_key
    LEFT JOIN range_hit ra ON ra.peer_key = k.peer_key
    LEFT JOIN {endpoints} ep ON ep.snapshot = k.snapshot AND ep.endpoint_id = k.pe_endpoint_id
    LEFT JOIN vpc_hit vh ON vh.snapshot = k.snapshot AND vh.peer_key = k.peer_key
    LEFT JOIN (SELECT DISTINCT snapshot, resolver_key FROM {vpcs} WHERE resolver_key IS NOT NULL) vr
      ON vr.snapshot = k.snapshot AND vr.resolver_key = k.peer_key
    WHERE k.role = 'egress'
  ) g
),
egress AS (
  SELECT egress0.*,
    CASE WHEN path = 'interface-endpoint' THEN pe_endpoint_id
         WHEN path = 'gateway-endpoint' THEN r_target_id END AS endpoint_id,
    {tp_check} AS traffic_path_check,
    {tp_meaning} AS traffic_path_meaning
  FROM egress0
),
pair_egress AS (
  SELECT rid, hk, src_key, dst_key, COALESCE(srcport, 0) AS sp, COALESCE(dstport, 0) AS dp, protocol, start_s, end_s
  FROM roled
  WHERE role = 'egress' AND src_key IS NOT NULL AND dst_key IS NOT NULL AND protocol IS NOT NULL
),
pair_reply AS (
  SELECT rid, hk, src_key, dst_key, COALESCE(srcport, 0) AS sp, COALESCE(dstport, 0) AS dp, protocol, start_s, action
  FROM roled
  WHERE role IN ('reply', 'inbound') AND src_key IS NOT NULL AND dst_key IS NOT NULL AND protocol IS NOT NULL
),
cand AS (
  -- Replies and the egress records of their group (same interface, reversed
  -- 5-tuple) that started at most 60 s after them and ended at most 600 s before.
  SELECT r.rid AS r_rid, r.action AS r_action, e.rid AS e_rid,
    e.hk, e.src_key, e.dst_key, e.sp, e.dp, e.protocol,
    abs(COALESCE(r.start_s, 0) - COALESCE(e.start_s, 0)) AS dist, e.start_s AS e_start, e.end_s AS e_end
  FROM pair_reply r
  JOIN pair_egress e
    ON e.hk = r.hk AND e.src_key = r.dst_key AND e.dst_key = r.src_key
    AND e.sp = r.dp AND e.dp = r.sp AND e.protocol = r.protocol
  WHERE r.start_s IS NULL OR COALESCE(e.start_s, e.end_s) IS NULL
    OR (r.start_s + {before} >= COALESCE(e.start_s, e.end_s) AND r.start_s <= COALESCE(e.end_s, e.start_s) + {after})
),
answered AS (
  -- Groups with a reply that was not rejected: all their records are answered.
  SELECT DISTINCT hk, src_key, dst_key, sp, dp, protocol
  FROM cand WHERE r_action IS NULL OR r_action <> 'REJECT'
),
replied AS (
  -- Egress records that are the nearest in time of some reply.
  SELECT DISTINCT e_rid FROM (
    SELECT e_rid, row_number() OVER (PARTITION BY r_rid ORDER BY dist, e_start, e_end, e_rid) AS rn FROM cand
  ) x WHERE rn = 1
),
ingress_hosts AS (
  SELECT DISTINCT hk FROM roled WHERE role IN ('reply', 'inbound')
),
classified AS (
  SELECT e.*,
    CASE
      WHEN e.action = 'REJECT' THEN 'rejected'
      WHEN ag.hk IS NOT NULL THEN 'answered'
      WHEN rp.e_rid IS NOT NULL THEN 'rejected'
      WHEN ih.hk IS NOT NULL THEN 'unanswered'
      ELSE 'unknown'
    END AS outcome,
    -- The host: the instance with all its ENIs and addresses (the ENI's own
    -- host when it has no instance), else the address the topology lacks.
    e.h_host_instance_id AS instance_id,
    e.h_host_eni AS eni,
    CASE WHEN e.h_eni_id IS NOT NULL THEN e.h_host_address ELSE e.srcaddr END AS address,
    e.h_host_subnet_id AS subnet_id,
    e.h_host_enis AS enis,
    CASE WHEN e.h_eni_id IS NOT NULL THEN e.h_host_addresses ELSE e.srcaddr END AS addresses,
    e.h_host_subnet_ids AS subnet_ids,
    COALESCE(e.start_s, e.end_s, 0) AS first_s,
    CASE WHEN COALESCE(e.end_s, e.start_s, 0) > COALESCE(e.start_s, e.end_s, 0)
         THEN COALESCE(e.end_s, e.start_s, 0) ELSE COALESCE(e.start_s, e.end_s, 0) END AS last_s
  FROM egress e
  LEFT JOIN answered ag
    ON ag.hk = e.hk AND ag.src_key = e.src_key AND ag.dst_key = e.dst_key
    AND ag.sp = COALESCE(e.srcport, 0) AND ag.dp = COALESCE(e.dstport, 0) AND ag.protocol = e.protocol
  LEFT JOIN replied rp ON rp.e_rid = e.rid
  LEFT JOIN ingress_hosts ih ON ih.hk = e.hk
),
evidenced AS (
  SELECT classified.*, {evidence} AS evidence FROM classified
)",
            start = d.ident("start"),
            end = d.ident("end"),
            flows = self.o.flow_table,
            where_ = self.where_clause(),
            src_key = d.addr_key("srcaddr"),
            dst_key = d.addr_key("dstaddr"),
            pdst_key = d.addr_key("pkt_dstaddr"),
            src_chk = checked("src_key0"),
            dst_chk = checked("dst_key0"),
            pdst_chk = checked("pdst_key0"),
            tmax_flow = TIME_MAX - 1,
            snapshots = self.t("snapshots"),
            enis = self.t("enis"),
            hosts = self.t("hosts"),
            routes = self.t("routes"),
            pls = self.t("prefix_list_entries"),
            ranges = self.t("aws_ranges"),
            endpoints = self.t("endpoints"),
            vpcs = self.t("vpc_cidrs"),
            i_cols = eni_cols("i", "i"),
            s_cols = eni_cols("sh", "s"),
            d_cols = eni_cols("dh", "d"),
            sh_open = open("sh.valid_from_ms"),
            dh_open = open("dh.valid_from_ms"),
            pe_open = open("k.pe_valid_from_ms"),
            pkt_label = service_label("g.pkt_dst_aws_service"),
            tp_check = self.traffic_path_check(),
            tp_meaning = self.traffic_path_meaning(),
            before = crate::classify::PAIR_BEFORE_SECS,
            after = crate::classify::PAIR_AFTER_SECS,
        )
    }

    /// The rows of `from` (a view name) or of the inline chain.
    fn source(&self, view: Option<&str>) -> (String, String) {
        match view {
            Some(v) => (String::new(), v.to_owned()),
            None => (format!("{}\n", self.ctes()), "evidenced".to_owned()),
        }
    }

    /// Every column of every classified egress record (the view's body).
    pub(super) fn all(&self) -> String {
        format!("{}\nSELECT * FROM evidenced", self.ctes())
    }

    /// One row per distinct egress record (`records` = how many times it occurs).
    pub(super) fn flows(&self, view: Option<&str>) -> String {
        let d = self.o.dialect;
        let (with, from) = self.source(view);
        format!(
            "{with}SELECT interface_id, srcaddr, dstaddr, pkt_dstaddr, srcport, dstport, protocol,\n  \
             start_s AS {start}, end_s AS {end}, action, packets, bytes, copies AS records,\n  \
             service, instance_id, eni, address, subnet_id, enis, addresses, subnet_ids, path, outcome, endpoint_id, attributed_by,\n  \
             r_route_table_id AS route_table_id, r_destination AS route_destination, r_target_id AS route_target,\n  \
             r_blackhole AS blackhole, pl_prefix_list_id AS prefix_list_id, traffic_path, traffic_path_check, evidence\n\
             FROM {from}",
            start = d.ident("start"),
            end = d.ident("end"),
        )
    }

    /// The verdict table ([`super::VERDICT_COLUMNS`]).
    pub(super) fn verdicts(&self, view: Option<&str>) -> String {
        let (with, from) = self.source(view);
        let count = |o: &str| {
            format!("CAST(sum(CASE WHEN outcome = '{o}' THEN copies ELSE 0 END) AS BIGINT) AS {o}")
        };
        let public = PathClass::ALL
            .iter()
            .filter(|p| p.is_public())
            .map(|p| format!("'{}'", p.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let private = PathClass::ALL
            .iter()
            .filter(|p| p.is_private())
            .map(|p| format!("'{}'", p.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let host = "service, instance_id, eni, address, subnet_id, enis, addresses, subnet_ids";
        let with = if with.is_empty() {
            String::from("WITH\n")
        } else {
            format!("{},\n", with.trim_end())
        };
        format!(
            "{with}by_path AS (
  SELECT service, instance_id, eni, address, subnet_id, enis, addresses, subnet_ids, path,
    CAST(sum(copies) AS BIGINT) AS flows,
    CAST(sum(copies * COALESCE(packets, 0)) AS BIGINT) AS packets,
    CAST(sum(copies * COALESCE(bytes, 0)) AS BIGINT) AS bytes,
    min(first_s) AS first, max(last_s) AS last,
    {answered}, {unanswered}, {rejected}, {unknown},
    min(endpoint_id) AS endpoint_id,
    min(evidence) AS evidence
  FROM {from}
  GROUP BY service, instance_id, eni, address, subnet_id, enis, addresses, subnet_ids, path
),
flagged AS (
  SELECT by_path.*,
    max(CASE WHEN path <> 'unknown' THEN 1 ELSE 0 END) OVER (PARTITION BY {host}) AS known,
    max(CASE WHEN path IN ({public}) AND answered + unanswered + unknown > 0 THEN 1 ELSE 0 END) OVER (PARTITION BY {host}) AS went_public,
    max(CASE WHEN path IN ({private}) AND answered + unknown > 0 THEN 1 ELSE 0 END) OVER (PARTITION BY {host}) AS went_private
  FROM by_path
)
SELECT service, instance_id, eni, address,
  CASE WHEN known = 0 THEN 'unknown'
       WHEN went_public = 1 AND went_private = 1 THEN 'mixed'
       WHEN went_public = 1 THEN 'public'
       WHEN went_private = 1 THEN 'private'
       ELSE 'blocked' END AS verdict,
  path, flows, packets, bytes, first, last,
  CASE WHEN answered = flows THEN 'answered'
       WHEN unanswered = flows THEN 'unanswered'
       WHEN rejected = flows THEN 'rejected'
       WHEN unknown = flows THEN 'unknown'
       ELSE 'mixed' END AS outcome,
  subnet_id, answered, unanswered, rejected, unknown, endpoint_id,
  enis, addresses, subnet_ids,
  concat(evidence, '; flow logs and topology only (DNS answers and TLS SNI need captures)') AS evidence
FROM flagged
ORDER BY service, instance_id NULLS FIRST, eni NULLS FIRST, address NULLS FIRST, path",
            answered = count("answered"),
            unanswered = count("unanswered"),
            rejected = count("rejected"),
            unknown = count("unknown"),
        )
    }

    /// Traffic-path disagreements, as the audit's findings word them.
    pub(super) fn findings(&self, view: Option<&str>) -> String {
        let (with, from) = self.source(view);
        let label = "COALESCE(instance_id, eni, address, 'unknown host')";
        format!(
            "{with}SELECT 'traffic-path-disagreement' AS kind,
  concat({label}, ': traffic-path ', {code}, ' (', traffic_path_meaning, ') but the topology replay says ', path) AS message,
  CAST(sum(copies) AS BIGINT) AS count
FROM {from}
WHERE traffic_path_check = 'disagrees'
GROUP BY {label}, traffic_path, traffic_path_meaning, path
ORDER BY message",
            code = self.str_of("traffic_path"),
        )
    }
}
