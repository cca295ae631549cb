package io.dynofleet.proxy;

/** How a pool picks a backend. */
public enum Algorithm {
  /** Power of two choices over outstanding requests, weighted by peak-EWMA latency. */
  LEAST_REQUEST,
  ROUND_ROBIN,
  RANDOM
}
