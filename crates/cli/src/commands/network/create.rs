//! `network create`: the flags into Docker's `CreateRequest`, with the
//! address pools checked and paired as docker/cli's `consolidateIpam`
//! does (each `--ip-range`, `--gateway` and `--aux-address` goes to the
//! one `--subnet` that contains it).

use std::collections::BTreeMap;
use std::net::IpAddr;

use berth_api::types::network::{ConfigReference, Ipam, IpamConfig, NetworkCreateRequest};

use super::args::NetworkCreateArgs;
use crate::errors::CliError;
use crate::opts::parse;

/// The request `network create` sends for `args`, or the error Docker's
/// CLI gives before calling the daemon.
pub fn create_request(args: &NetworkCreateArgs) -> Result<NetworkCreateRequest, CliError> {
    let aux = parse::key_values("--aux-address", &args.aux_address)?;
    let pools = consolidate_ipam(&args.subnet, &args.ip_range, &args.gateway, &aux)?;
    let mut labels = BTreeMap::new();
    for l in &args.label {
        validate_label(l).map_err(|e| {
            CliError::msg(format!(
                "invalid argument \"{l}\" for \"--label\" flag: {e}"
            ))
        })?;
        let (k, v) = parse::label(l);
        labels.insert(k, v);
    }
    Ok(NetworkCreateRequest {
        name: args.name.clone(),
        driver: args.driver.clone(),
        scope: args.scope.clone().unwrap_or_default(),
        enable_ipv4: args.ipv4,
        enable_ipv6: args.ipv6,
        ipam: Some(Ipam {
            driver: args.ipam_driver.clone(),
            options: Some(parse::key_values("--ipam-opt", &args.ipam_opt)?),
            config: Some(pools),
        }),
        internal: args.internal,
        attachable: args.attachable,
        ingress: args.ingress,
        config_only: args.config_only,
        config_from: args
            .config_from
            .clone()
            .filter(|n| !n.is_empty())
            .map(|network| ConfigReference { network }),
        options: Some(parse::key_values("--opt", &args.opt)?),
        labels: Some(labels),
        check_duplicate: None,
    })
}

/// `opts.ValidateLabel`: a non-empty key without whitespace; the value is
/// optional.
fn validate_label(l: &str) -> Result<(), String> {
    let key = l.split_once('=').map_or(l, |(k, _)| k).trim();
    if key.is_empty() {
        return Err(format!("invalid label '{l}': empty name"));
    }
    if key.contains(char::is_whitespace) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(())
}

/// One pool per subnet, in the order given; ranges, gateways and
/// auxiliary addresses join the subnet containing them. The errors are
/// docker/cli's words.
pub fn consolidate_ipam(
    subnets: &[String],
    ranges: &[String],
    gateways: &[String],
    aux: &BTreeMap<String, String>,
) -> Result<Vec<IpamConfig>, CliError> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err(CliError::msg(
            "every ip-range or gateway must have a corresponding subnet",
        ));
    }
    let mut pools: Vec<IpamConfig> = Vec::new();
    for s in subnets {
        for p in &pools {
            if subnet_matches(s, &p.subnet)? || subnet_matches(&p.subnet, s)? {
                return Err(CliError::msg(
                    "multiple overlapping subnet configuration is not supported",
                ));
            }
        }
        pools.push(IpamConfig {
            subnet: s.clone(),
            ..IpamConfig::default()
        });
    }
    for r in ranges {
        let mut matched = false;
        for p in pools.iter_mut() {
            if !subnet_matches(&p.subnet, r)? {
                continue;
            }
            if !p.ip_range.is_empty() {
                return Err(CliError::msg(format!(
                    "cannot configure multiple ranges ({r}, {}) on the same subnet ({})",
                    p.ip_range, p.subnet
                )));
            }
            p.ip_range = r.clone();
            matched = true;
        }
        if !matched {
            return Err(CliError::msg(format!("no matching subnet for range {r}")));
        }
    }
    for g in gateways {
        let mut matched = false;
        for p in pools.iter_mut() {
            if !subnet_matches(&p.subnet, g)? {
                continue;
            }
            if !p.gateway.is_empty() {
                return Err(CliError::msg(format!(
                    "cannot configure multiple gateways ({g}, {}) for the same subnet ({})",
                    p.gateway, p.subnet
                )));
            }
            p.gateway = g.clone();
            matched = true;
        }
        if !matched {
            return Err(CliError::msg(format!("no matching subnet for gateway {g}")));
        }
    }
    for (key, addr) in aux {
        let mut matched = false;
        for p in pools.iter_mut() {
            if subnet_matches(&p.subnet, addr)? {
                p.aux_addresses.insert(key.clone(), addr.clone());
                matched = true;
            }
        }
        if !matched {
            return Err(CliError::msg(format!(
                "no matching subnet for aux-address {addr}"
            )));
        }
    }
    Ok(pools)
}

/// Whether `data` (an address, or a CIDR whose address is taken) lies in
/// `subnet`. A bad subnet or CIDR is an error; a bad bare address simply
/// matches nothing (Go's `net.ParseIP` gives nil).
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, CliError> {
    let (net, prefix) = parse_cidr(subnet)
        .ok_or_else(|| CliError::msg(format!("invalid subnet: invalid CIDR address: {subnet}")))?;
    let ip = if data.contains('/') {
        parse_cidr(data)
            .ok_or_else(|| CliError::msg(format!("invalid CIDR address: {data}")))?
            .0
    } else {
        match data.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return Ok(false),
        }
    };
    Ok(contains(net, prefix, ip))
}

/// `addr/prefix` with a prefix that fits the family.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = s.split_once('/')?;
    let ip: IpAddr = addr.parse().ok()?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u8 = prefix.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((ip, prefix))
}

/// Whether `ip` is in `net/prefix`. An IPv4-mapped IPv6 address counts
/// as IPv4, as Go's `IPNet.Contains` treats it.
fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (n, a, bits) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u32::from(n) as u128, u32::from(a) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    let mask = if shift >= 128 {
        0
    } else {
        (u128::MAX << shift) & (u128::MAX >> (128 - bits))
    };
    n & mask == a & mask
}
