//! The target as AWS names it: the region and account that own it and the domain (or serverless collection)
//! its endpoint names. The workers' `es:ESHttp*` / `aoss:APIAccessAll` statement and the dashboard's target
//! charts are scoped to these, never to the stack's own region and account unless the configuration leaves
//! them open (no `target.auth.account`: the stack's account, written `${AWS::AccountId}`).
//!
//! Endpoints of Amazon OpenSearch Service look like `search-<domain>-<id>.<region>.es.amazonaws.com` (`vpc-`
//! for a VPC domain); serverless ones like `<collection-id>.<region>.aoss.amazonaws.com`. A custom endpoint
//! names nothing, and the statement then covers every domain (collection) of the target's account and region.
//! Pure; every value is `${`-escaped for the `Fn::Sub` it lands in.

use serde_json::{Value, json};

use crate::config::{Migration, Sigv4Service, TargetAuth};

/// Where the target lives, as `Fn::Sub` text (`${AWS::Region}` / `${AWS::AccountId}` when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AwsTarget {
    pub region: String,
    pub account: String,
    /// The domain name: `dashboard.target_domain`, else the one the endpoint names.
    pub domain: Option<String>,
}

/// The target's region (SigV4's signing region, else the endpoint's), account and domain.
pub(crate) fn aws_target(m: &Migration) -> AwsTarget {
    let host = host_of(&m.target.endpoint);
    let region = match &m.target.auth {
        TargetAuth::Sigv4 { region, .. } if !region.is_empty() => sub_escape(region),
        _ => endpoint_region(host).map_or_else(|| "${AWS::Region}".to_string(), sub_escape),
    };
    let account = m
        .target
        .aws
        .account
        .as_deref()
        .map_or_else(|| "${AWS::AccountId}".to_string(), sub_escape);
    let domain = m
        .dashboard
        .target_domain
        .clone()
        .or_else(|| domain_from_endpoint(host).map(str::to_string));
    AwsTarget {
        region,
        account,
        domain: domain.as_deref().map(sub_escape),
    }
}

/// The task role's statement for a SigV4 target: HTTP access to exactly the target's domain (or collection),
/// in the target's region and account. `None` for other auth types.
pub(crate) fn data_access_statement(m: &Migration) -> Option<Value> {
    let TargetAuth::Sigv4 { service, .. } = &m.target.auth else {
        return None;
    };
    let t = aws_target(m);
    let arn = |service: &str, resource: &str| json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:{service}:{}:{}:{resource}", t.region, t.account) });
    Some(match service {
        Sigv4Service::Es => {
            let domain = t.domain.as_deref().unwrap_or("*");
            let mut resources = vec![arn("es", &format!("domain/{domain}"))];
            if domain != "*" {
                resources.push(arn("es", &format!("domain/{domain}/*")));
            }
            json!({
                "Sid": if domain == "*" { "WriteTargetDomains" } else { "WriteTargetDomain" },
                "Effect": "Allow",
                "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
                "Resource": resources,
            })
        }
        Sigv4Service::Aoss => {
            let host = host_of(&m.target.endpoint);
            let collection = collection_from_endpoint(host).unwrap_or("*");
            json!({
                "Sid": "WriteTargetCollection",
                "Effect": "Allow",
                "Action": ["aoss:APIAccessAll"],
                "Resource": [arn("aoss", &format!("collection/{}", sub_escape(collection)))],
            })
        }
    })
}

/// The host of an `http(s)://host[:port][/path]` endpoint, lowercased labels compared as they are.
fn host_of(endpoint: &str) -> &str {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
}

/// `us-east-1` of `x.us-east-1.es.amazonaws.com` (also `aoss`, and `.com.cn`).
fn endpoint_region(host: &str) -> Option<&str> {
    let labels: Vec<&str> = host.split('.').collect();
    let service_at = labels
        .iter()
        .position(|l| *l == "es" || *l == "aoss")
        .filter(|i| labels.get(i + 1) == Some(&"amazonaws"))?;
    let region = labels.get(service_at.checked_sub(1)?)?;
    (service_at >= 2 && is_region(region)).then_some(*region)
}

/// The domain of `search-<domain>-<id>.<region>.es.amazonaws.com` (or `vpc-...`).
pub(crate) fn domain_from_endpoint(host: &str) -> Option<&str> {
    endpoint_region(host)?;
    let (first, rest) = host.split_once('.')?;
    if !rest.contains(".es.amazonaws.") {
        return None;
    }
    let named = first
        .strip_prefix("search-")
        .or_else(|| first.strip_prefix("vpc-"))?;
    let (domain, id) = named.rsplit_once('-')?;
    let valid = (3..=28).contains(&domain.len())
        && domain.starts_with(|c: char| c.is_ascii_lowercase())
        && domain
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric());
    valid.then_some(domain)
}

/// The collection id of `<id>.<region>.aoss.amazonaws.com`.
fn collection_from_endpoint(host: &str) -> Option<&str> {
    endpoint_region(host)?;
    let (first, rest) = host.split_once('.')?;
    let valid = rest.contains(".aoss.amazonaws.")
        && !first.is_empty()
        && first
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    valid.then_some(first)
}

fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// Escapes `${` in a value placed inside `Fn::Sub` so a user string cannot inject a substitution.
pub(crate) fn sub_escape(value: &str) -> String {
    value.replace("${", "${!")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_and_region_come_from_managed_endpoints_only() {
        let host = host_of("https://search-orders-2024-a1b2c3d4e5.eu-west-1.es.amazonaws.com:443/");
        assert_eq!(
            host,
            "search-orders-2024-a1b2c3d4e5.eu-west-1.es.amazonaws.com"
        );
        assert_eq!(domain_from_endpoint(host), Some("orders-2024"));
        assert_eq!(endpoint_region(host), Some("eu-west-1"));
        let vpc = "vpc-logs-xyz.cn-north-1.es.amazonaws.com.cn";
        assert_eq!(domain_from_endpoint(vpc), Some("logs"));
        assert_eq!(endpoint_region(vpc), Some("cn-north-1"));
        for custom in [
            "search.example.com",
            "opensearch.internal.example.com",
            "search-x-1.es.amazonaws.com",
            "localhost",
        ] {
            assert_eq!(domain_from_endpoint(custom), None, "{custom}");
        }
        let aoss = "abc123def456.us-west-2.aoss.amazonaws.com";
        assert_eq!(collection_from_endpoint(aoss), Some("abc123def456"));
        assert_eq!(endpoint_region(aoss), Some("us-west-2"));
        assert_eq!(domain_from_endpoint(aoss), None);
    }

    #[test]
    fn fn_sub_syntax_in_values_is_escaped() {
        assert_eq!(sub_escape("a${AWS::Region}"), "a${!AWS::Region}");
    }
}
