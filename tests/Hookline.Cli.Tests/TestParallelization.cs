// These tests run real `hookline serve` processes (and PostgreSQL clusters) and inject faults whose timing is
// measured against leases and timeouts of a few seconds. Run in parallel on a 2-core machine they starve each
// other's processes past those durations (a cold server's first /readyz alone took over 2 s), so they run one
// class at a time; each test is short.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
