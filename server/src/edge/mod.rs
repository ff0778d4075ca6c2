//! The network edge: the accept loop with its timeouts and connection cap, and the client
//! address taken through trusted reverse proxies.

mod body;
mod listen;
mod proxy;
mod stall;

pub use proxy::{Cidr, CidrError, ProxyHeader, client_addr};

pub(crate) use listen::run;
