//! VPC Flow Logs: text (any field order), gzip, JSON wrappers, CloudWatch exports, Parquet.
