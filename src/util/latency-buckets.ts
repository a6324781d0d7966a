/** Bucket bounds, in seconds, for request-like latencies (an HTTP call, a device step): api and worker export the same. */
export const LATENCY_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
