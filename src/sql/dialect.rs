//! Where the dialects differ: identifiers that are keywords, bitwise AND,
//! a regular-expression test, views, and turning an address string into
//! its comparable key ([`crate::topology::export::addr_key`]). Everything
//! else the generator writes is SQL all four engines read alike.

use clap::ValueEnum;

/// A SQL engine the audit can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// Amazon Athena engine v3 (Trino functions)
    Athena,
    /// Trino
    Trino,
    /// Apache Spark SQL (3.4 or later)
    Spark,
    /// DuckDB
    Duckdb,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Athena => "athena",
            Dialect::Trino => "trino",
            Dialect::Spark => "spark",
            Dialect::Duckdb => "duckdb",
        }
    }

    fn is_trino(self) -> bool {
        matches!(self, Dialect::Athena | Dialect::Trino)
    }

    /// Quote an identifier that may be a keyword (`end`, `date`).
    pub fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("`{name}`"),
            _ => format!("\"{name}\""),
        }
    }

    /// `a & b` on integers.
    pub fn bit_and(self, a: &str, b: &str) -> String {
        if self.is_trino() {
            format!("bitwise_and({a}, {b})")
        } else {
            format!("({a} & {b})")
        }
    }

    /// True when `s` matches the regular expression `re` (a SQL string literal).
    pub fn matches(self, s: &str, re: &str) -> String {
        match self {
            Dialect::Spark => format!("({s} RLIKE {re})"),
            Dialect::Duckdb => format!("regexp_matches({s}, {re})"),
            _ => format!("regexp_like({s}, {re})"),
        }
    }

    /// `CREATE … VIEW name AS`.
    pub fn create_view(self, name: &str) -> String {
        match self {
            Dialect::Spark => format!("CREATE OR REPLACE TEMPORARY VIEW {name} AS"),
            _ => format!("CREATE OR REPLACE VIEW {name} AS"),
        }
    }

    /// The key of the address in the string expression `s` (already `NULL`
    /// for `-`): 32 upper-case hex digits of its IPv6 form (IPv4 mapped),
    /// `NULL` when `s` is not an address.
    pub fn addr_key(self, s: &str) -> String {
        if self.is_trino() {
            // Trino's IPADDRESS is 16 bytes, IPv4 mapped: the key itself.
            return format!("upper(to_hex(CAST(TRY_CAST({s} AS IPADDRESS) AS VARBINARY)))");
        }
        let v4 = {
            let octet =
                |i: u8| format!("lpad(hex(CAST(split_part({s}, '.', {i}) AS INT)), 2, '0')");
            format!(
                "concat('00000000000000000000FFFF', {}, {}, {}, {})",
                octet(1),
                octet(2),
                octet(3),
                octet(4)
            )
        };
        // IPv6: the groups before and after `::`, each padded to four
        // digits, with zero groups for what `::` stands for.
        let (split, transform, filter, join, size) = match self {
            Dialect::Duckdb => (
                "string_split",
                "list_transform",
                "list_filter",
                "array_to_string",
                "len",
            ),
            _ => ("split", "transform", "filter", "array_join", "size"),
        };
        let lambda = |var: &str, body: &str| match self {
            Dialect::Duckdb => format!("lambda {var}: {body}"),
            _ => format!("{var} -> {body}"),
        };
        let groups =
            |part: &str| format!("{filter}({split}({part}, ':'), {})", lambda("g", "g <> ''"));
        let padded = |part: &str| {
            format!(
                "{join}({transform}({}, {}), '')",
                groups(part),
                lambda("g", "lpad(g, 4, '0')")
            )
        };
        let left = format!("split_part(lower({s}), '::', 1)");
        let right = format!("split_part(lower({s}), '::', 2)");
        let v6 = format!(
            "upper(CASE WHEN {s} LIKE '%::%' THEN concat({}, repeat('0000', 8 - {size}({}) - {size}({})), {}) ELSE {} END)",
            padded(&left),
            groups(&left),
            groups(&right),
            padded(&right),
            padded(&format!("lower({s})")),
        );
        format!(
            "CASE WHEN {} THEN {v4} WHEN {} THEN {v6} END",
            self.matches(s, r"'^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$'"),
            self.matches(s, "'^[0-9a-fA-F:]{2,39}$'"),
        )
    }
}
