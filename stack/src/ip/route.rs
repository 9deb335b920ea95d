//! The routing table: longest-prefix match over connected (direct) and gateway (indirect)
//! routes, each naming its interface — the model of [RFC 1180 § 5.6–5.10] with the
//! longest-match rule of [RFC 1812 § 5.2.4.3]. A default route is the /0 entry.

use core::net::Ipv4Addr;

use crate::iface::{mask, InterfaceId};

/// Where a route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Added with an interface address: the prefix is on the link.
    Connected,
    /// Added by the user.
    Static,
    /// Learned from an ICMP redirect [RFC 1122 § 3.3.1.2].
    Redirect,
}

/// One row of the routing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    /// The destination prefix.
    pub destination: Ipv4Addr,
    /// Its length, 0 (default route) to 32 (host route).
    pub prefix_len: u8,
    /// The next hop for an indirect route; `None` for a direct one (the destination itself is
    /// the next hop).
    pub gateway: Option<Ipv4Addr>,
    /// The interface to send on.
    pub iface: InterfaceId,
    /// Where the route came from.
    pub kind: RouteKind,
}

impl Route {
    /// A direct route: the prefix is reachable on `iface` without a gateway.
    pub const fn direct(destination: Ipv4Addr, prefix_len: u8, iface: InterfaceId) -> Route {
        Route {
            destination,
            prefix_len,
            gateway: None,
            iface,
            kind: RouteKind::Static,
        }
    }

    /// An indirect route through `gateway` on `iface`.
    pub const fn via(
        destination: Ipv4Addr,
        prefix_len: u8,
        gateway: Ipv4Addr,
        iface: InterfaceId,
    ) -> Route {
        Route {
            destination,
            prefix_len,
            gateway: Some(gateway),
            iface,
            kind: RouteKind::Static,
        }
    }

    /// A default route through `gateway`.
    pub const fn default_via(gateway: Ipv4Addr, iface: InterfaceId) -> Route {
        Route::via(Ipv4Addr::UNSPECIFIED, 0, gateway, iface)
    }

    /// Whether `addr` matches the route's prefix.
    pub fn matches(&self, addr: Ipv4Addr) -> bool {
        let m = mask(self.prefix_len);
        u32::from(addr) & m == u32::from(self.destination) & m
    }

    /// The next hop for `destination` over this route.
    pub fn next_hop(&self, destination: Ipv4Addr) -> Ipv4Addr {
        self.gateway.unwrap_or(destination)
    }
}

/// Why a route could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// The table holds its configured maximum of routes.
    TableFull,
    /// The prefix length is over 32.
    BadPrefix,
}

/// A bounded routing table with longest-prefix match.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    routes: Vec<Route>,
    max: usize,
    /// Bumped by every change (see [`generation`](RoutingTable::generation)).
    generation: u64,
}

impl RoutingTable {
    /// An empty table that holds at most `max` routes.
    pub fn new(max: usize) -> RoutingTable {
        RoutingTable {
            routes: Vec::new(),
            max,
            generation: 0,
        }
    }

    /// Adds a route, replacing one with the same prefix, interface and kind.
    pub fn add(&mut self, route: Route) -> Result<(), RouteError> {
        if route.prefix_len > 32 {
            return Err(RouteError::BadPrefix);
        }
        self.generation += 1;
        let route = Route {
            destination: Ipv4Addr::from(u32::from(route.destination) & mask(route.prefix_len)),
            ..route
        };
        if let Some(existing) = self.routes.iter_mut().find(|r| {
            r.destination == route.destination
                && r.prefix_len == route.prefix_len
                && r.iface == route.iface
                && r.kind == route.kind
        }) {
            *existing = route;
            return Ok(());
        }
        if self.routes.len() >= self.max {
            // Redirect routes are a cache: make room by dropping the oldest one.
            match self
                .routes
                .iter()
                .position(|r| r.kind == RouteKind::Redirect)
            {
                Some(i) if route.kind == RouteKind::Redirect => {
                    self.routes.remove(i);
                }
                _ => return Err(RouteError::TableFull),
            }
        }
        self.routes.push(route);
        Ok(())
    }

    /// Removes every route for this prefix; returns how many were removed.
    pub fn remove(&mut self, destination: Ipv4Addr, prefix_len: u8) -> usize {
        self.generation += 1;
        let before = self.routes.len();
        let destination = Ipv4Addr::from(u32::from(destination) & mask(prefix_len));
        self.routes
            .retain(|r| !(r.destination == destination && r.prefix_len == prefix_len));
        before - self.routes.len()
    }

    /// Removes every route that satisfies `f`.
    pub fn remove_where(&mut self, f: impl Fn(&Route) -> bool) {
        self.generation += 1;
        self.routes.retain(|r| !f(r));
    }

    /// The route for `destination`: the longest matching prefix; among equally long ones,
    /// connected routes first, then redirect routes (newer knowledge than the static route
    /// they correct), then the earliest added.
    pub fn lookup(&self, destination: Ipv4Addr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.matches(destination))
            .max_by(|a, b| {
                a.prefix_len
                    .cmp(&b.prefix_len)
                    .then(preference(a.kind).cmp(&preference(b.kind)))
                    // max_by keeps the last maximum: prefer the earlier route on a full tie.
                    .then(core::cmp::Ordering::Greater)
            })
    }

    /// A number that changes whenever the table does, so that a decision taken from it can be
    /// remembered and known to be current while the number is the same.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The routes, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The most routes the table holds.
    pub fn capacity(&self) -> usize {
        self.max
    }
}

/// Tie-break among equally long prefixes.
fn preference(kind: RouteKind) -> u8 {
    match kind {
        RouteKind::Connected => 2,
        RouteKind::Redirect => 1,
        RouteKind::Static => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IF1: InterfaceId = InterfaceId(0);
    const IF2: InterfaceId = InterfaceId(1);

    fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(a, b, c, d)
    }

    /// Alpha's table from RFC 1180 table 11: development direct, accounting and factory through
    /// devnetrouter (223.1.2.4).
    fn alpha() -> RoutingTable {
        let mut t = RoutingTable::new(8);
        t.add(Route::direct(ip(223, 1, 2, 0), 24, IF1)).unwrap();
        t.add(Route::via(ip(223, 1, 3, 0), 24, ip(223, 1, 2, 4), IF1))
            .unwrap();
        t.add(Route::via(ip(223, 1, 4, 0), 24, ip(223, 1, 2, 4), IF1))
            .unwrap();
        t
    }

    #[test]
    fn rfc1180_alpha_table() {
        let t = alpha();
        let r = t.lookup(ip(223, 1, 2, 2)).unwrap();
        assert_eq!(r.next_hop(ip(223, 1, 2, 2)), ip(223, 1, 2, 2));
        let r = t.lookup(ip(223, 1, 3, 2)).unwrap();
        assert_eq!(r.next_hop(ip(223, 1, 3, 2)), ip(223, 1, 2, 4));
        assert_eq!(r.iface, IF1);
        // No default route: another network is unreachable (RFC 1180 § 5.8).
        assert!(t.lookup(ip(10, 0, 0, 1)).is_none());
    }

    #[test]
    fn longest_prefix_wins_and_default_catches_the_rest() {
        let mut t = alpha();
        t.add(Route::default_via(ip(223, 1, 2, 9), IF1)).unwrap();
        t.add(Route::via(ip(223, 1, 3, 128), 25, ip(223, 1, 2, 7), IF2))
            .unwrap();
        assert_eq!(
            t.lookup(ip(10, 0, 0, 1)).unwrap().gateway,
            Some(ip(223, 1, 2, 9))
        );
        assert_eq!(t.lookup(ip(223, 1, 3, 200)).unwrap().iface, IF2);
        assert_eq!(t.lookup(ip(223, 1, 3, 100)).unwrap().iface, IF1);
        assert_eq!(t.remove(ip(223, 1, 3, 130), 25), 1);
        assert_eq!(t.lookup(ip(223, 1, 3, 200)).unwrap().iface, IF1);
    }

    #[test]
    fn bounded_and_replacing() {
        let mut t = RoutingTable::new(2);
        t.add(Route::direct(ip(10, 0, 0, 0), 8, IF1)).unwrap();
        t.add(Route::via(ip(10, 0, 0, 0), 8, ip(1, 1, 1, 1), IF1))
            .unwrap();
        assert_eq!(t.len(), 1, "same prefix, interface and kind replaces");
        t.add(Route::direct(ip(11, 0, 0, 0), 8, IF1)).unwrap();
        assert_eq!(
            t.add(Route::direct(ip(12, 0, 0, 0), 8, IF1)),
            Err(RouteError::TableFull)
        );
        assert_eq!(
            t.add(Route::direct(ip(12, 0, 0, 0), 33, IF1)),
            Err(RouteError::BadPrefix)
        );
    }

    #[test]
    fn connected_preferred_on_equal_prefix() {
        let mut t = RoutingTable::new(4);
        t.add(Route::via(ip(10, 0, 0, 0), 8, ip(1, 1, 1, 1), IF2))
            .unwrap();
        t.add(Route {
            kind: RouteKind::Connected,
            ..Route::direct(ip(10, 0, 0, 0), 8, IF1)
        })
        .unwrap();
        assert_eq!(t.lookup(ip(10, 1, 1, 1)).unwrap().iface, IF1);
    }
}
