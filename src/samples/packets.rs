//! Exchanges → IPv4 packets as the host's capture sees them, built with
//! etherparse's `PacketBuilder` (lengths and checksums computed there).

use etherparse::{
    IcmpEchoHeader, Icmpv4Type, IpHeaders, IpNumber, Ipv4Header, PacketBuilder, TcpHeader,
    TcpOptionElement,
};

use super::SamplesError;
use super::lab::{Exchange, Host, Kind, RESOLVER, Route};
use super::payload::{self, Rng};

/// One packet on a host's interface.
#[derive(Debug, Clone)]
pub struct Pkt {
    /// Microseconds since the Unix epoch.
    pub t_us: i64,
    /// Sent by the host (egress) or received (ingress).
    pub outgoing: bool,
    /// The IPv4 packet (header + transport + payload).
    pub ip: Vec<u8>,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// The packet's contribution to the flow-log `tcp-flags` field.
    pub flow_flags: u8,
    /// The route of the exchange the packet belongs to.
    pub route: Route,
    pub host: &'static Host,
}

impl Pkt {
    /// The IPv4 total length, the unit of the flow-log `bytes` field.
    pub fn ip_len(&self) -> u64 {
        u64::try_from(self.ip.len()).unwrap_or(0)
    }
}

/// How the far end of an exchange behaves.
struct Peer {
    addr: [u8; 4],
    ttl: u8,
    /// Round-trip time range in microseconds.
    rtt: (u64, u64),
}

fn peer(ex: &Exchange, addr: [u8; 4]) -> Peer {
    let (ttl, rtt) = match (addr, ex.route()) {
        (a, _) if a == RESOLVER => (255, (500, 1200)),
        (_, Route::Local) => (255, (250, 480)),
        ([52, 219, ..], _) => (241, (900, 1500)),
        ([52, 95, ..], _) => (237, (1100, 1900)),
        _ => (116, (2600, 3300)),
    };
    Peer { addr, ttl, rtt }
}

enum Transport {
    Tcp(TcpHeader),
    Udp(u16, u16),
    Icmp(Icmpv4Type),
}

/// Builds the packets of one exchange.
struct Gen<'a> {
    ex: &'a Exchange,
    rng: Rng,
    peer: Peer,
    host_ip_id: u16,
    peer_ip_id: u16,
    out: Vec<Pkt>,
}

impl Gen<'_> {
    fn emit(
        &mut self,
        t_us: i64,
        outgoing: bool,
        transport: Transport,
        payload: &[u8],
    ) -> Result<(), SamplesError> {
        let host = self.ex.host;
        let (src, dst, ttl) = if outgoing {
            (host.ip, self.peer.addr, 64)
        } else {
            (self.peer.addr, host.ip, self.peer.ttl)
        };
        let mut ip = Ipv4Header::new(0, ttl, IpNumber::TCP, src, dst)
            .map_err(|e| SamplesError::Packet(e.to_string()))?;
        let id = if outgoing {
            &mut self.host_ip_id
        } else {
            &mut self.peer_ip_id
        };
        ip.identification = *id;
        *id = id.wrapping_add(1);
        let builder = PacketBuilder::ip(IpHeaders::Ipv4(ip, Default::default()));
        let mut bytes = Vec::with_capacity(payload.len() + 60);
        let (proto, sport, dport, flow_flags) = match transport {
            Transport::Tcp(h) => {
                let flags = match (h.syn, h.ack) {
                    (true, true) => 18,
                    (true, false) => 2,
                    _ => 0,
                } | u8::from(h.fin)
                    | (u8::from(h.rst) << 2);
                let (s, d) = (h.source_port, h.destination_port);
                builder.tcp_header(h).write(&mut bytes, payload)?;
                (6, s, d, flags)
            }
            Transport::Udp(s, d) => {
                builder.udp(s, d).write(&mut bytes, payload)?;
                (17, s, d, 0)
            }
            Transport::Icmp(t) => {
                builder.icmpv4(t).write(&mut bytes, payload)?;
                (1, 0, 0, 0)
            }
        };
        self.out.push(Pkt {
            t_us,
            outgoing,
            ip: bytes,
            src,
            dst,
            proto,
            sport,
            dport,
            flow_flags,
            route: self.ex.route(),
            host,
        });
        Ok(())
    }

    fn rtt(&mut self) -> i64 {
        i64::try_from(self.rng.range(self.peer.rtt.0, self.peer.rtt.1)).unwrap_or(1000)
    }

    fn jitter(&mut self, lo: u64, hi: u64) -> i64 {
        i64::try_from(self.rng.range(lo, hi)).unwrap_or(0)
    }

    fn ephemeral_port(&mut self) -> u16 {
        u16::try_from(self.rng.range(32768, 60999)).unwrap_or(40000)
    }
}

impl From<etherparse::err::packet::BuildWriteError> for SamplesError {
    fn from(e: etherparse::err::packet::BuildWriteError) -> Self {
        SamplesError::Packet(e.to_string())
    }
}

/// One side of a TCP connection (sequence number, timestamp clock).
struct Side {
    port: u16,
    seq: u32,
    ts_base: u32,
    window: u16,
}

/// A TCP connection from the host to the peer.
struct Conn {
    client: Side,
    server: Side,
    mss_server: u16,
    /// The last timestamp value each side sent (0 before its first segment).
    client_ts: u32,
    server_ts: u32,
}

impl Conn {
    /// The header of the next segment from one side: timestamps from that
    /// side's clock, echoing the last value the other side sent.
    fn header(
        &mut self,
        from_client: bool,
        t_us: i64,
        syn: bool,
    ) -> Result<TcpHeader, SamplesError> {
        let ms = u32::try_from(t_us.div_euclid(1000).rem_euclid(1 << 31)).unwrap_or(0);
        let (me, other, echo) = if from_client {
            (&mut self.client, &self.server, self.server_ts)
        } else {
            (&mut self.server, &self.client, self.client_ts)
        };
        let mut h = TcpHeader::new(me.port, other.port, me.seq, me.window);
        let ts = me.ts_base.wrapping_add(ms);
        let opts: Vec<TcpOptionElement> = if syn {
            let mss = if from_client { 8961 } else { self.mss_server };
            let scale = if from_client { 7 } else { 9 };
            vec![
                TcpOptionElement::MaximumSegmentSize(mss),
                TcpOptionElement::SelectiveAcknowledgementPermitted,
                TcpOptionElement::Timestamp(ts, echo),
                TcpOptionElement::Noop,
                TcpOptionElement::WindowScale(scale),
            ]
        } else {
            vec![
                TcpOptionElement::Noop,
                TcpOptionElement::Noop,
                TcpOptionElement::Timestamp(ts, echo),
            ]
        };
        h.set_options(&opts)
            .map_err(|e| SamplesError::Packet(e.to_string()))?;
        if !syn || !from_client {
            h.ack = true;
            h.acknowledgment_number = other.seq;
        }
        h.syn = syn;
        if from_client {
            self.client_ts = ts;
        } else {
            self.server_ts = ts;
        }
        Ok(h)
    }

    fn advance(&mut self, from_client: bool, n: usize) {
        let side = if from_client {
            &mut self.client
        } else {
            &mut self.server
        };
        side.seq = side.seq.wrapping_add(u32::try_from(n).unwrap_or(0));
    }
}

/// All packets of one exchange, in time order.
pub fn build(ex: &Exchange) -> Result<Vec<Pkt>, SamplesError> {
    let mut rng = Rng::from_name(&ex.id);
    let remote = match &ex.kind {
        Kind::Dns { .. } => RESOLVER,
        Kind::Https { server, .. } | Kind::Http { server, .. } => *server,
        Kind::Ping { dst, .. } => *dst,
    };
    let host_ip_id = rng.next_u16();
    let peer_ip_id = rng.next_u16();
    let mut g = Gen {
        ex,
        rng,
        peer: peer(ex, remote),
        host_ip_id,
        peer_ip_id,
        out: Vec::new(),
    };
    let t = ex.at_us;
    match &ex.kind {
        Kind::Dns {
            qname,
            cname,
            addrs,
            ttl,
        } => {
            let id = g.rng.next_u16();
            let port = g.ephemeral_port();
            g.emit(
                t,
                true,
                Transport::Udp(port, 53),
                &payload::dns_query(id, qname),
            )?;
            let rt = g.rtt();
            let cname = cname.as_ref().map(|(n, t)| (n.as_str(), *t));
            g.emit(
                t + rt,
                false,
                Transport::Udp(53, port),
                &payload::dns_response(id, qname, cname, addrs, *ttl),
            )?;
        }
        Kind::Ping { dst: _, count } => {
            let id = g.rng.next_u16();
            let answered = ex.route() != Route::NoRoute;
            let mut at = t;
            for seq in 1..=*count {
                let data = payload::ping_data(at);
                g.emit(
                    at,
                    true,
                    Transport::Icmp(Icmpv4Type::EchoRequest(IcmpEchoHeader { id, seq })),
                    &data,
                )?;
                if answered {
                    let rt = g.rtt();
                    g.emit(
                        at + rt,
                        false,
                        Transport::Icmp(Icmpv4Type::EchoReply(IcmpEchoHeader { id, seq })),
                        &data,
                    )?;
                }
                at += 1_000_000 + g.jitter(40, 900);
            }
        }
        Kind::Https {
            sni,
            request,
            response,
            ..
        } => {
            let hello = payload::tls_client_hello(sni, &mut g.rng);
            let flight = {
                let n = usize::try_from(g.rng.range(2400, 3600)).unwrap_or(3000);
                payload::tls_server_flight(&mut g.rng, n)
            };
            let finished = payload::tls_client_finished(&mut g.rng, *request);
            let answer = payload::tls_application_data(&mut g.rng, *response);
            let close = payload::tls_application_data(&mut g.rng, 19);
            tcp_session(&mut g, 443, &[hello, finished, close], &[flight, answer])?;
        }
        Kind::Http {
            host, path, body, ..
        } => {
            let request = payload::http_get(host, path);
            let date = jiff::Timestamp::from_microsecond(t)
                .map_err(|e| SamplesError::Time(e.to_string()))?
                .strftime("%a, %d %b %Y %H:%M:%S GMT")
                .to_string();
            let answer = payload::http_ok(&mut g.rng, &date, body);
            tcp_session(&mut g, 80, &[request], &[answer])?;
        }
    }
    Ok(g.out)
}

/// A TCP connection: handshake, then client and server messages in turn
/// (`client[i]`, `server[i]`, …), then the client closes. Without a route the
/// SYN is retransmitted after 1, 3 and 7 seconds and nothing comes back.
fn tcp_session(
    g: &mut Gen<'_>,
    port: u16,
    client: &[Vec<u8>],
    server: &[Vec<u8>],
) -> Result<(), SamplesError> {
    let mss_server = 1460;
    let mut c = Conn {
        client: Side {
            port: g.ephemeral_port(),
            seq: g.rng.next_u32(),
            ts_base: g.ex.host.ts_offset,
            window: 62727,
        },
        server: Side {
            port,
            seq: g.rng.next_u32(),
            ts_base: g.rng.next_u32(),
            window: 65535,
        },
        mss_server,
        client_ts: 0,
        server_ts: 0,
    };
    let mut t = g.ex.at_us;
    if g.ex.route() == Route::NoRoute {
        for backoff in [0, 1_000_000, 3_000_000, 7_000_000] {
            let at = t + backoff + if backoff > 0 { g.jitter(200, 4000) } else { 0 };
            let h = c.header(true, at, true)?;
            g.emit(at, true, Transport::Tcp(h), &[])?;
        }
        return Ok(());
    }
    let h = c.header(true, t, true)?;
    g.emit(t, true, Transport::Tcp(h), &[])?;
    c.advance(true, 1);
    t += g.rtt();
    c.server.window = 65535;
    let h = c.header(false, t, true)?;
    g.emit(t, false, Transport::Tcp(h), &[])?;
    c.advance(false, 1);
    c.server.window = 443;
    c.client.window = 491;
    t += g.jitter(15, 40);
    let h = c.header(true, t, false)?;
    g.emit(t, true, Transport::Tcp(h), &[])?;

    let chunk = usize::from(mss_server) - 12;
    let rounds = client.len().max(server.len());
    for i in 0..rounds {
        if let Some(msg) = client.get(i) {
            t += g.jitter(80, 400);
            send(g, &mut c, true, &mut t, msg, chunk)?;
        }
        if let Some(msg) = server.get(i) {
            t += g.rtt() + g.jitter(300, 2000) + if i > 0 { g.jitter(6000, 40000) } else { 0 };
            send(g, &mut c, false, &mut t, msg, chunk)?;
            t += g.jitter(20, 60);
            let h = c.header(true, t, false)?;
            g.emit(t, true, Transport::Tcp(h), &[])?;
        }
    }
    // The client closes; the server answers with its own FIN; the client acks.
    t += g.jitter(200, 900);
    let mut h = c.header(true, t, false)?;
    h.fin = true;
    g.emit(t, true, Transport::Tcp(h), &[])?;
    c.advance(true, 1);
    t += g.rtt();
    let mut h = c.header(false, t, false)?;
    h.fin = true;
    g.emit(t, false, Transport::Tcp(h), &[])?;
    c.advance(false, 1);
    t += g.jitter(15, 40);
    let h = c.header(true, t, false)?;
    g.emit(t, true, Transport::Tcp(h), &[])
}

/// Sends `msg` in MSS-sized segments, PSH on the last one.
fn send(
    g: &mut Gen<'_>,
    c: &mut Conn,
    from_client: bool,
    t: &mut i64,
    msg: &[u8],
    chunk: usize,
) -> Result<(), SamplesError> {
    let parts: Vec<&[u8]> = msg.chunks(chunk.max(1)).collect();
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            *t += g.jitter(5, 30);
        }
        let mut h = c.header(from_client, *t, false)?;
        h.psh = i == last;
        g.emit(*t, from_client, Transport::Tcp(h), part)?;
        c.advance(from_client, part.len());
    }
    Ok(())
}
