//! What each path costs: list prices per region (`prices.toml`, built in, with
//! its source and date; `--prices FILE` reads another of the same shape) and
//! the estimated charge of the audited traffic per service × path, with what
//! an endpoint would have charged for the same bytes. Always an estimate.
//!
//! Prices are kept in micro-dollars per GB (integers), so the report stays
//! `Eq`. A GB here is 2^30 bytes, as AWS meters data transfer. The bytes are
//! the ones the report counts for a path: what the hosts sent (egress
//! records); a NAT gateway also bills the replies, so a NAT figure is a lower
//! bound when replies are large.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{PathKind, Report};

/// The built-in price file.
pub const BUILTIN_PRICES: &str = include_str!("prices.toml");

/// Bytes per billed GB.
const GB: f64 = 1_073_741_824.0;

#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error(
        "{file}: {field} of region {region} is {value}: want a price in USD between 0 and 1000"
    )]
    Value {
        file: String,
        region: String,
        field: &'static str,
        value: f64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    source: String,
    default_region: String,
    regions: BTreeMap<String, RegionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionFile {
    date: String,
    nat_gateway_per_gb: f64,
    nat_gateway_per_hour: Option<f64>,
    interface_endpoint_per_gb: f64,
    interface_endpoint_per_az_hour: Option<f64>,
    #[serde(default)]
    gateway_endpoint_per_gb: f64,
}

/// Prices of one region, in micro-dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegionPrices {
    pub nat_gateway_per_gb: u64,
    pub nat_gateway_per_hour: Option<u64>,
    pub interface_endpoint_per_gb: u64,
    pub interface_endpoint_per_az_hour: Option<u64>,
    pub gateway_endpoint_per_gb: u64,
}

/// The prices a report uses: one region's, with where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pricing {
    /// The region priced (the topology's, else the file's default).
    pub region: String,
    /// False when the topology's region has no prices and the default
    /// region's were used (or no region was found).
    pub region_matched: bool,
    /// `built-in` or the `--prices` file.
    pub file: String,
    pub source: String,
    pub date: String,
    pub prices: RegionPrices,
}

/// A file of prices, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable {
    file: String,
    source: String,
    default_region: String,
    regions: BTreeMap<String, (String, RegionPrices)>,
}

fn micro(file: &str, region: &str, field: &'static str, v: f64) -> Result<u64, PriceError> {
    if !(0.0..=1000.0).contains(&v) {
        return Err(PriceError::Value {
            file: file.to_owned(),
            region: region.to_owned(),
            field,
            value: v,
        });
    }
    // In range and finite: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok((v * 1e6).round() as u64)
}

impl PriceTable {
    /// The prices built into the binary.
    pub fn builtin() -> Result<PriceTable, PriceError> {
        PriceTable::parse("built-in", BUILTIN_PRICES)
    }

    /// Parse a price file (`file` names it in errors and in the report).
    pub fn parse(file: &str, text: &str) -> Result<PriceTable, PriceError> {
        let raw: PriceFile = toml::from_str(text).map_err(|e| PriceError::Parse {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut regions = BTreeMap::new();
        for (name, r) in raw.regions {
            let opt = |field, v: Option<f64>| v.map(|v| micro(file, &name, field, v)).transpose();
            let prices = RegionPrices {
                nat_gateway_per_gb: micro(file, &name, "nat_gateway_per_gb", r.nat_gateway_per_gb)?,
                nat_gateway_per_hour: opt("nat_gateway_per_hour", r.nat_gateway_per_hour)?,
                interface_endpoint_per_gb: micro(
                    file,
                    &name,
                    "interface_endpoint_per_gb",
                    r.interface_endpoint_per_gb,
                )?,
                interface_endpoint_per_az_hour: opt(
                    "interface_endpoint_per_az_hour",
                    r.interface_endpoint_per_az_hour,
                )?,
                gateway_endpoint_per_gb: micro(
                    file,
                    &name,
                    "gateway_endpoint_per_gb",
                    r.gateway_endpoint_per_gb,
                )?,
            };
            regions.insert(name, (r.date, prices));
        }
        if !regions.contains_key(&raw.default_region) {
            return Err(PriceError::Parse {
                file: file.to_owned(),
                message: format!(
                    "default_region {:?} has no [regions.{}] table",
                    raw.default_region, raw.default_region
                ),
            });
        }
        Ok(PriceTable {
            file: file.to_owned(),
            source: raw.source,
            default_region: raw.default_region,
            regions,
        })
    }

    /// The prices for `region` (the default region's when it has none).
    pub fn for_region(&self, region: Option<&str>) -> Pricing {
        let found = region.and_then(|r| self.regions.get_key_value(r));
        let matched = found.is_some();
        let (name, (date, prices)) = found
            .or_else(|| self.regions.get_key_value(&self.default_region))
            .map_or_else(
                || (String::new(), (String::new(), RegionPrices::default())),
                |(n, v)| (n.clone(), v.clone()),
            );
        Pricing {
            region: name,
            region_matched: matched,
            file: self.file.clone(),
            source: self.source.clone(),
            date,
            prices,
        }
    }
}

/// The estimated charge of some bytes on one path.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub usd: f64,
    /// USD per GB.
    pub per_gb: f64,
    /// `nat-gateway data processing, us-east-1, 2026-03 list price`.
    pub basis: String,
}

fn usd(micro: u64) -> f64 {
    // Prices are at most 1e9 micro-dollars: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    let v = micro as f64;
    v / 1e6
}

fn charge(bytes: u64, per_gb_micro: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes as f64 / GB;
    gb * usd(per_gb_micro)
}

impl Pricing {
    fn basis(&self, what: &str) -> String {
        let mut s = format!("{what}, {}, {} list price", self.region, self.date);
        if !self.region_matched {
            s.push_str(" (region not priced: default region's)");
        }
        s
    }

    /// The per-GB price of `path`, `None` where the path has no per-GB
    /// charge this table knows (internet gateway, local, peering …).
    pub fn per_gb(&self, path: PathKind) -> Option<(u64, &'static str)> {
        let p = &self.prices;
        match path {
            PathKind::NatGateway => Some((p.nat_gateway_per_gb, "nat-gateway data processing")),
            PathKind::InterfaceEndpoint => Some((
                p.interface_endpoint_per_gb,
                "interface-endpoint data processing",
            )),
            PathKind::GatewayEndpoint => Some((
                p.gateway_endpoint_per_gb,
                "gateway endpoint, no data charge",
            )),
            _ => None,
        }
    }

    /// The estimated charge for `bytes` over `path` (`None`: no price applies).
    pub fn cost(&self, path: PathKind, bytes: u64) -> Option<Cost> {
        let (micro, what) = self.per_gb(path)?;
        Some(Cost {
            usd: charge(bytes, micro),
            per_gb: usd(micro),
            basis: self.basis(what),
        })
    }

    /// The endpoint that would carry `service` privately: a gateway endpoint
    /// for S3 and DynamoDB, an interface endpoint otherwise.
    pub fn endpoint_for(service: &str) -> PathKind {
        if matches!(service, "s3" | "dynamodb") {
            PathKind::GatewayEndpoint
        } else {
            PathKind::InterfaceEndpoint
        }
    }

    /// What the endpoint path would have charged for bytes that took a
    /// public path (NAT or internet gateway) to an AWS service; `None` for
    /// private paths and for traffic that is not to an AWS service.
    pub fn instead(&self, service: &str, path: PathKind, bytes: u64) -> Option<(PathKind, Cost)> {
        if !path.is_public() || !is_aws_service(service) {
            return None;
        }
        let endpoint = Pricing::endpoint_for(service);
        self.cost(endpoint, bytes).map(|c| (endpoint, c))
    }
}

/// Services no endpoint can carry (not AWS, or not one service).
pub fn is_aws_service(service: &str) -> bool {
    !matches!(service, "external" | "aws" | "dns" | "vpc" | "")
}

/// `$18.54`, `$0.0021`, `< $0.0001`, `$0`: readable at any size.
pub fn format_usd(v: f64) -> String {
    if v == 0.0 {
        "$0".to_owned()
    } else if v >= 0.995 {
        format!("${v:.2}")
    } else if v >= 0.0001 {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0');
        format!("${s}")
    } else {
        "< $0.0001".to_owned()
    }
}

/// `≈ $18.54`, `< $0.0001`, `$0`: a charge as an estimate.
pub fn approx_usd(v: f64) -> String {
    let s = format_usd(v);
    if s.starts_with('$') && v > 0.0 {
        format!("≈ {s}")
    } else {
        s
    }
}

/// One service × path over every host: the bytes and their charge.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    pub service: String,
    pub path: PathKind,
    pub flows: u64,
    pub bytes: u64,
    pub cost: Option<Cost>,
    /// The endpoint that would carry it privately, and its charge.
    pub instead: Option<(PathKind, Cost)>,
}

impl CostRow {
    /// `s3 via nat-gateway: 412.0 GiB ≈ $18.54 in this window; a gateway
    /// endpoint would carry it at no charge`.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "{} via {}: {}",
            self.service,
            self.path,
            super::format_bytes(self.bytes)
        );
        match &self.cost {
            Some(c) => s.push_str(&format!(" {} in this window", approx_usd(c.usd))),
            None => s.push_str(" (no per-GB price for this path)"),
        }
        if let Some((path, c)) = &self.instead {
            let (article, name) = match path {
                PathKind::InterfaceEndpoint => ("an", "interface endpoint"),
                _ => ("a", "gateway endpoint"),
            };
            if c.usd == 0.0 {
                s.push_str(&format!("; {article} {name} would carry it at no charge"));
            } else {
                s.push_str(&format!(
                    "; {article} {name} would charge {} (plus its hourly charge)",
                    approx_usd(c.usd)
                ));
            }
        }
        s
    }
}

/// The report's traffic per service × path with its estimated charge; rows
/// with no bytes are left out. Sorted by service, then path.
pub fn cost_rows(report: &Report) -> Vec<CostRow> {
    let Some(pricing) = &report.pricing else {
        return Vec::new();
    };
    let mut sums: BTreeMap<(&str, PathKind), (u64, u64)> = BTreeMap::new();
    for v in &report.verdicts {
        for p in &v.paths {
            let e = sums.entry((v.service.as_str(), p.path)).or_default();
            e.0 = e.0.saturating_add(p.flows);
            e.1 = e.1.saturating_add(p.bytes);
        }
    }
    sums.into_iter()
        .filter(|(_, (_, bytes))| *bytes > 0)
        .map(|((service, path), (flows, bytes))| CostRow {
            service: service.to_owned(),
            path,
            flows,
            bytes,
            cost: pricing.cost(path, bytes),
            instead: pricing.instead(service, path, bytes),
        })
        .collect()
}

/// The sentence every format prints beside the figures.
pub fn estimate_note(p: &Pricing) -> String {
    let mut s = format!(
        "Estimate from list prices ({}, {} {}; {}). Bytes are what the hosts sent; \
a NAT gateway also bills the replies and by the hour, an interface endpoint by the AZ-hour.",
        p.region,
        if p.file == "built-in" {
            "built-in table of"
        } else {
            "file"
        },
        if p.file == "built-in" {
            &p.date
        } else {
            &p.file
        },
        p.source
    );
    if !p.region_matched {
        s.push_str(
            " The audited region has no prices in the table: the default region's are used.",
        );
    }
    s
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn builtin_prices_parse_and_match_the_reference() {
        let t = PriceTable::builtin().unwrap();
        let p = t.for_region(Some("ap-northeast-2"));
        assert!(p.region_matched);
        assert_eq!(p.prices.nat_gateway_per_gb, 59_000);
        assert_eq!(p.prices.interface_endpoint_per_gb, 10_000);
        assert_eq!(p.prices.gateway_endpoint_per_gb, 0);
        let d = t.for_region(Some("mars-north-1"));
        assert!(!d.region_matched);
        assert_eq!(d.region, "us-east-1");
        assert_eq!(d.prices.nat_gateway_per_gb, 45_000);
    }

    #[test]
    fn cost_of_nat_bytes_and_the_endpoint_instead() {
        let p = PriceTable::builtin().unwrap().for_region(Some("us-east-1"));
        // 412 GiB through a NAT: 412 × $0.045 = $18.54.
        let bytes = 412 * 1_073_741_824;
        let c = p.cost(PathKind::NatGateway, bytes).unwrap();
        assert!((c.usd - 18.54).abs() < 1e-9, "{}", c.usd);
        assert_eq!(c.per_gb, 0.045);
        assert_eq!(
            c.basis,
            "nat-gateway data processing, us-east-1, 2026-03 list price"
        );
        let (path, alt) = p.instead("s3", PathKind::NatGateway, bytes).unwrap();
        assert_eq!(path, PathKind::GatewayEndpoint);
        assert_eq!(alt.usd, 0.0);
        let (path, alt) = p.instead("sts", PathKind::InternetGateway, bytes).unwrap();
        assert_eq!(path, PathKind::InterfaceEndpoint);
        assert!((alt.usd - 4.12).abs() < 1e-9);
        assert!(p.instead("external", PathKind::NatGateway, bytes).is_none());
        assert!(p.instead("s3", PathKind::GatewayEndpoint, bytes).is_none());
        assert!(p.cost(PathKind::InternetGateway, bytes).is_none());
        assert_eq!(p.cost(PathKind::GatewayEndpoint, bytes).unwrap().usd, 0.0);
        let row = CostRow {
            service: "s3".into(),
            path: PathKind::NatGateway,
            flows: 1,
            bytes,
            cost: Some(c),
            instead: Some((path, alt)),
        };
        assert!(
            row.sentence()
                .starts_with("s3 via nat-gateway: 412.0 GiB ≈ $18.54 in this window")
        );
    }

    #[test]
    fn price_file_errors_name_the_file_and_field() {
        let bad = "source = \"x\"\ndefault_region = \"r\"\n[regions.r]\ndate = \"d\"\nnat_gateway_per_gb = -1.0\ninterface_endpoint_per_gb = 0.01\n";
        let e = PriceTable::parse("my.toml", bad).unwrap_err().to_string();
        assert!(
            e.contains("my.toml") && e.contains("nat_gateway_per_gb"),
            "{e}"
        );
        let e = PriceTable::parse("my.toml", "source = 1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("my.toml: "), "{e}");
        let nodefault = "source = \"x\"\ndefault_region = \"q\"\n[regions.r]\ndate = \"d\"\nnat_gateway_per_gb = 0.1\ninterface_endpoint_per_gb = 0.01\n";
        assert!(PriceTable::parse("f", nodefault).is_err());
    }

    #[test]
    fn format_usd_reads_at_every_size() {
        assert_eq!(format_usd(0.0), "$0");
        assert_eq!(format_usd(18.54), "$18.54");
        assert_eq!(format_usd(0.0021), "$0.0021");
        assert_eq!(format_usd(0.00001), "< $0.0001");
    }
}
