//! One private bridge network per run, on a /24 nobody else uses.
//!
//! Fixed node addresses need a subnet we choose ourselves. Candidates are the
//! /24s of [`DEFAULT_RANGE`], tried from a random start so parallel runs
//! rarely collide; subnets of existing networks are skipped, and a conflict
//! reported by the engine (a run that won the race) moves on to the next.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptions;

use super::engine::Engine;
use super::error::{api, Error, Result};

/// Where run subnets come from: 172.28.0.0/14 holds 1024 /24s.
pub const DEFAULT_RANGE: (Ipv4Addr, u8) = (Ipv4Addr::new(172, 28, 0, 0), 14);

/// How many creations to attempt before giving up.
const MAX_ATTEMPTS: usize = 16;

/// A created network.
#[derive(Clone, Debug)]
pub struct RunNetwork {
    /// Network name, `uh-<run id>`.
    pub name: String,
    /// Engine id of the network.
    pub id: String,
    /// Network address of the /24 (x.y.z.0); the gateway is x.y.z.1.
    pub subnet: Ipv4Addr,
}

impl RunNetwork {
    /// The address of host number `n` (2..=254) in the subnet.
    pub fn host(&self, n: u8) -> Ipv4Addr {
        let [a, b, c, _] = self.subnet.octets();
        Ipv4Addr::new(a, b, c, n)
    }

    /// `x.y.z.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/24", self.subnet)
    }
}

/// Creates the run's network on a free /24 of `range`.
pub async fn create_run_network(
    engine: &Engine,
    name: &str,
    labels: HashMap<String, String>,
    range: (Ipv4Addr, u8),
    seed: u64,
) -> Result<RunNetwork> {
    let taken = existing_subnets(engine).await?;
    let mut last = String::from("no candidate was free");
    for subnet in candidates(range, seed, &taken).take(MAX_ATTEMPTS) {
        let cidr = format!("{subnet}/24");
        let [a, b, c, _] = subnet.octets();
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            ipam: Some(Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(cidr.clone()),
                    gateway: Some(Ipv4Addr::new(a, b, c, 1).to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        match engine.client().create_network(request).await {
            Ok(created) => {
                return Ok(RunNetwork {
                    name: name.to_string(),
                    id: created.id,
                    subnet,
                })
            }
            Err(e) if is_overlap(&e) => last = format!("{cidr}: {e}"),
            Err(e) => return Err(api(format!("create network {name} on {cidr}"))(e)),
        }
    }
    Err(Error::NoFreeSubnet {
        range: format!("{}/{}", range.0, range.1),
        last,
    })
}

fn is_overlap(e: &bollard::errors::Error) -> bool {
    let text = e.to_string();
    text.contains("overlap") || text.contains("Pool") || text.contains("in use")
}

/// IPv4 subnets (address, prefix) of every network on the engine.
async fn existing_subnets(engine: &Engine) -> Result<Vec<(Ipv4Addr, u8)>> {
    let networks = engine
        .client()
        .list_networks(None::<ListNetworksOptions>)
        .await
        .map_err(api("list networks"))?;
    Ok(networks
        .iter()
        .filter_map(|n| n.ipam.as_ref()?.config.as_ref())
        .flatten()
        .filter_map(|c| parse_cidr(c.subnet.as_deref()?))
        .collect())
}

fn parse_cidr(text: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = text.split_once('/')?;
    Some((addr.parse().ok()?, len.parse().ok().filter(|l| *l <= 32)?))
}

fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let mask = |len: u8| if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let common = mask(a.1.min(b.1));
    u32::from(a.0) & common == u32::from(b.0) & common
}

/// Free /24s of `range`, starting at a seed-dependent offset and wrapping.
fn candidates(
    range: (Ipv4Addr, u8),
    seed: u64,
    taken: &[(Ipv4Addr, u8)],
) -> impl Iterator<Item = Ipv4Addr> + '_ {
    let count: u32 = 1 << (24u8.saturating_sub(range.1));
    let base = u32::from(range.0) & (u32::MAX << (32 - range.1));
    let start = (seed % count as u64) as u32;
    (0..count)
        .map(move |i| Ipv4Addr::from(base + (((start + i) % count) << 8)))
        .filter(move |s| !taken.iter().any(|t| overlaps((*s, 24), *t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_skip_taken_subnets_and_stay_in_range() {
        let taken = vec![
            (Ipv4Addr::new(172, 28, 0, 0), 24),
            (Ipv4Addr::new(172, 28, 1, 0), 24),
        ];
        let first: Vec<_> = candidates(DEFAULT_RANGE, 0, &taken).take(2).collect();
        assert_eq!(
            first,
            vec![Ipv4Addr::new(172, 28, 2, 0), Ipv4Addr::new(172, 28, 3, 0)]
        );
        let all: Vec<_> = candidates(DEFAULT_RANGE, 77, &[]).collect();
        assert_eq!(all.len(), 1024);
        assert_eq!(all[0], Ipv4Addr::new(172, 28, 77, 0));
        assert!(all
            .iter()
            .all(|s| s.octets()[0] == 172 && (28..=31).contains(&s.octets()[1])));
    }

    #[test]
    fn a_wide_existing_network_blocks_its_whole_span() {
        let taken = vec![(Ipv4Addr::new(172, 28, 0, 0), 16)];
        assert!(candidates(DEFAULT_RANGE, 0, &taken).all(|s| s.octets()[1] != 28));
        assert_eq!(
            parse_cidr("10.0.0.0/8"),
            Some((Ipv4Addr::new(10, 0, 0, 0), 8))
        );
        assert_eq!(parse_cidr("fd00::/64"), None);
    }
}
