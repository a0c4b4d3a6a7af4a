#!/usr/bin/env bash
# Collect one VPC's topology with the AWS CLI, for `privpath --topology DIR`.
#
#   scripts/collect-topology.sh VPC_ID REGION [OUT_DIR]
#
# Runs read-only `aws ec2 describe-*` calls (works in CloudShell) and writes one
# JSON file per call into OUT_DIR (default: topology-<vpc>-<UTC time>), plus
# snapshot.json with the time the snapshot was taken. privpath recognises the
# files by content; the names below are only for people:
#
#   snapshot.json                                   {"SnapshotTime", "VpcId", "Region"}
#   describe-vpcs.json
#   describe-vpc-attribute-enableDnsSupport.json
#   describe-vpc-attribute-enableDnsHostnames.json
#   describe-subnets.json
#   describe-route-tables.json
#   describe-internet-gateways.json
#   describe-nat-gateways.json                      (with the NATs' public addresses)
#   describe-addresses.json                         (Elastic IPs: who a public source address is)
#   describe-vpc-endpoints.json
#   describe-network-interfaces.json
#   describe-instances.json
#   describe-managed-prefix-lists.json
#   describe-prefix-lists.json
#   get-managed-prefix-list-entries-<pl-id>.json    (the pl id in the name ties entries to their list)
#   ip-ranges.json                                  (public; skipped with NO_IP_RANGES=1)
#
# Take a snapshot before and after a change into two folders and give both to
# privpath: each flow is judged against the latest snapshot taken before it.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 VPC_ID REGION [OUT_DIR]" >&2
    exit 2
fi
vpc=$1
region=$2
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out=${3:-topology-${vpc}-$(date -u +%Y%m%dT%H%M%SZ)}

case $vpc in
    vpc-*) ;;
    *) echo "error: '$vpc' is not a VPC id (vpc-…)" >&2; exit 2 ;;
esac
command -v aws >/dev/null || { echo "error: the aws CLI is not installed" >&2; exit 2; }

mkdir -p "$out"
ec2() { aws ec2 --region "$region" --output json "$@"; }
by_vpc=(--filters "Name=vpc-id,Values=$vpc")

echo "collecting $vpc in $region into $out" >&2
printf '{"SnapshotTime": "%s", "VpcId": "%s", "Region": "%s"}\n' "$now" "$vpc" "$region" > "$out/snapshot.json"
ec2 describe-vpcs --vpc-ids "$vpc" > "$out/describe-vpcs.json"
for attr in enableDnsSupport enableDnsHostnames; do
    ec2 describe-vpc-attribute --vpc-id "$vpc" --attribute "$attr" > "$out/describe-vpc-attribute-$attr.json"
done
ec2 describe-subnets "${by_vpc[@]}" > "$out/describe-subnets.json"
ec2 describe-route-tables "${by_vpc[@]}" > "$out/describe-route-tables.json"
ec2 describe-internet-gateways --filters "Name=attachment.vpc-id,Values=$vpc" > "$out/describe-internet-gateways.json"
ec2 describe-nat-gateways --filter "Name=vpc-id,Values=$vpc" > "$out/describe-nat-gateways.json"
ec2 describe-addresses > "$out/describe-addresses.json"
ec2 describe-vpc-endpoints "${by_vpc[@]}" > "$out/describe-vpc-endpoints.json"
ec2 describe-network-interfaces "${by_vpc[@]}" > "$out/describe-network-interfaces.json"
ec2 describe-instances "${by_vpc[@]}" > "$out/describe-instances.json"
ec2 describe-managed-prefix-lists > "$out/describe-managed-prefix-lists.json"
ec2 describe-prefix-lists > "$out/describe-prefix-lists.json"

# Entries of every prefix list a route uses, plus the S3 and DynamoDB lists.
pls=$(
    {
        ec2 describe-route-tables "${by_vpc[@]}" \
            --query 'RouteTables[].Routes[].DestinationPrefixListId' --output text
        ec2 describe-managed-prefix-lists \
            --filters "Name=prefix-list-name,Values=com.amazonaws.$region.s3,com.amazonaws.$region.dynamodb" \
            --query 'PrefixLists[].PrefixListId' --output text
    } | tr '\t ' '\n\n' | grep '^pl-' | sort -u || true
)
for pl in $pls; do
    ec2 get-managed-prefix-list-entries --prefix-list-id "$pl" > "$out/get-managed-prefix-list-entries-$pl.json"
done

if [[ ${NO_IP_RANGES:-0} != 1 ]]; then
    if command -v curl >/dev/null; then
        curl -fsS https://ip-ranges.amazonaws.com/ip-ranges.json -o "$out/ip-ranges.json" \
            || echo "warning: could not download ip-ranges.json" >&2
    else
        echo "warning: curl not found: ip-ranges.json not downloaded" >&2
    fi
fi

echo "done: privpath topology check --topology $out" >&2
