//! Counts the HTTP requests a DynamoDB client sends (retries included), so
//! tests and benchmarks can hold the hot path to one request per call, and
//! the cost table can price each operation (a read and a transactional
//! write are billed differently).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    total: Arc<AtomicU64>,
    /// Operations asked for, each counted once however many attempts it
    /// took: `get() - operations()` is the retries.
    operations: Arc<AtomicU64>,
    by_operation: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Operations under way now, and how often that rose from none: a
    /// round trip is a stretch with at least one request in flight, so
    /// requests sent at once count once.
    in_flight: Arc<AtomicU64>,
    round_trips: Arc<AtomicU64>,
}

impl RequestCounter {
    pub fn get(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// Operations the code asked for (a retried one counts once): what the
    /// design holds to one per answer, where `get()` also counts the SDK's
    /// retries of a timed-out or throttled attempt.
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::SeqCst)
    }

    /// Storage round trips: requests that overlap count once.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }

    /// Requests per operation name (`GetItem`, `TransactWriteItems`, ...).
    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.by_operation
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.operations.fetch_add(1, Ordering::SeqCst);
        if self.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.round_trips.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.total.fetch_add(1, Ordering::SeqCst);
        let operation = cfg.load::<Metadata>().map(Metadata::name).unwrap_or("?");
        if let Ok(mut m) = self.by_operation.lock() {
            *m.entry(operation.to_string()).or_default() += 1;
        }
        Ok(())
    }
}
