//! The server's counters for Prometheus (`GET /metrics`, text exposition format). Each
//! replica counts its own; Prometheus sums them. No label carries a username, an address or
//! anything else an attacker chooses, so the series stay few.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Which push vendor.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VendorLabel {
    /// `fcm`, `apns` or `log`.
    pub vendor: &'static str,
}

/// Why a push failed.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushFailureLabels {
    /// `fcm`, `apns` or `log`.
    pub vendor: &'static str,
    /// `unregistered`, `rejected`, `unavailable`, `queue_full`, `gave_up`.
    pub reason: &'static str,
}

/// Which limit refused a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    /// `reset`, `code`, `signin`, `push`.
    pub action: &'static str,
}

/// Which route answered (the route's pattern, never the request's path).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The route pattern, e.g. `/api/v1/reset/{id}`.
    pub route: String,
}

/// Every counter the server keeps; cheap to share (the metrics are atomics).
pub struct Metrics {
    registry: Registry,
    /// Resets started (a reset start that reached an account or not: the same answer).
    pub resets_started: Counter,
    /// Resets that wrote the new password.
    pub resets_completed: Counter,
    /// Challenges approved on a phone.
    pub approvals: Counter,
    /// Challenges denied on a phone (fraud reports not included).
    pub denials: Counter,
    /// Challenges reported as fraud.
    pub fraud_reports: Counter,
    /// (username, client) pairs locked, or authenticators disabled, by failures.
    pub lockouts: Counter,
    /// Requests refused by a rate limit or the push cap.
    pub rate_limited: Family<ActionLabel, Counter>,
    /// Pushes the vendor accepted.
    pub pushes_sent: Family<VendorLabel, Counter>,
    /// Pushes that failed.
    pub pushes_failed: Family<PushFailureLabels, Counter>,
    /// Emails the relay took.
    pub mails_sent: Counter,
    /// Emails given up (refused, tried too often, no room in the queue).
    pub mails_failed: Counter,
    /// Directory calls that failed (unreachable, timed out, refused the service account).
    pub directory_errors: Counter,
    /// Seconds from a request's head to its answer, by route.
    pub request_seconds: Family<RouteLabel, Histogram>,
    /// Long polls waiting now.
    pub long_polls_waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cityauth");
        let request_seconds = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            // 0.5 ms to about 16 s: a long poll's answer lands in the last bucket.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let metrics = Self {
            registry: Registry::default(),
            resets_started: Counter::default(),
            resets_completed: Counter::default(),
            approvals: Counter::default(),
            denials: Counter::default(),
            fraud_reports: Counter::default(),
            lockouts: Counter::default(),
            rate_limited: Family::default(),
            pushes_sent: Family::default(),
            pushes_failed: Family::default(),
            mails_sent: Counter::default(),
            mails_failed: Counter::default(),
            directory_errors: Counter::default(),
            request_seconds,
            long_polls_waiting: Gauge::default(),
        };
        registry.register(
            "resets_started",
            "Password resets started",
            metrics.resets_started.clone(),
        );
        registry.register(
            "resets_completed",
            "Password resets that wrote the new password",
            metrics.resets_completed.clone(),
        );
        registry.register(
            "approvals",
            "Challenges approved on a phone",
            metrics.approvals.clone(),
        );
        registry.register(
            "denials",
            "Challenges denied on a phone",
            metrics.denials.clone(),
        );
        registry.register(
            "fraud_reports",
            "Challenges reported as fraud",
            metrics.fraud_reports.clone(),
        );
        registry.register(
            "lockouts",
            "Pairs locked or authenticators disabled after failures",
            metrics.lockouts.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit or the push cap",
            metrics.rate_limited.clone(),
        );
        registry.register(
            "pushes_sent",
            "Pushes the vendor accepted",
            metrics.pushes_sent.clone(),
        );
        registry.register(
            "pushes_failed",
            "Pushes that failed",
            metrics.pushes_failed.clone(),
        );
        registry.register(
            "mails_sent",
            "Emails the relay took",
            metrics.mails_sent.clone(),
        );
        registry.register(
            "mails_failed",
            "Emails given up",
            metrics.mails_failed.clone(),
        );
        registry.register(
            "directory_errors",
            "Directory calls that failed",
            metrics.directory_errors.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Seconds from a request's head to its answer",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "long_polls_waiting",
            "Device long polls waiting now",
            metrics.long_polls_waiting.clone(),
        );
        Self {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_event_shows_in_the_text() {
        let metrics = Metrics::default();
        metrics.approvals.inc();
        metrics
            .pushes_failed
            .get_or_create(&PushFailureLabels {
                vendor: "apns",
                reason: "unregistered",
            })
            .inc();
        let text = metrics.encode();
        assert!(text.contains("cityauth_approvals_total 1"), "{text}");
        assert!(
            text.contains(
                "cityauth_pushes_failed_total{vendor=\"apns\",reason=\"unregistered\"} 1"
            ),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
