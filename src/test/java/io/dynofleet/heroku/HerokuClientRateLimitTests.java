package io.dynofleet.heroku;

import static org.assertj.core.api.Assertions.assertThat;

import io.dynofleet.sandbox.SandboxCall;
import io.dynofleet.sandbox.Simulator;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's rate limiter against the simulator over real HTTP (audit 21 M1): many threads
 * together spend no more than the account's refill, a 429's {@code Retry-After} holds every thread
 * of the process, and a new client reads {@code GET /account/rate-limits} before its first call.
 * The simulated account refills 10 calls a second, and the client knows it: in sandbox mode its
 * {@code rate-limit-refill-per-hour} defaults to the simulator's (the test profile sets only {@code
 * dynofleet.sandbox.rate-limit.refill-per-hour=36000}).
 */
@QuarkusTest
@Timeout(60)
class HerokuClientRateLimitTests {

  @Inject HerokuConfig config;
  @Inject Simulator sim;
  @Inject MeterRegistry meters;

  @BeforeEach
  void clean() {
    sim.clear();
  }

  @AfterEach
  void leaveNoFaults() {
    sim.resetFaults();
  }

  /**
   * The test profile sets the simulator's refill only: the client's follows it in sandbox mode (it
   * was Heroku's 4500 unless set as well).
   */
  @Test
  void inSandboxModeTheClientsRefillIsTheSimulators() {
    assertThat(config.rateLimitRefillPerHour()).isEqualTo(36000);
  }

  /** A client of its own (its own budget, as a new process has) recording its waits. */
  private HerokuClient client(List<Duration> sleeps) {
    return client(sleeps, new RateBudget(config));
  }

  private HerokuClient client(List<Duration> sleeps, RateBudget budget) {
    return TestHerokuClients.recording(config, budget, meters, sim.url(), sim.apiKey(), sleeps);
  }

  private List<Integer> statuses(String method, String path) {
    return sim.callLog().stream()
        .filter(c -> c.method().equals(method) && c.path().equals(path))
        .map(SandboxCall::status)
        .toList();
  }

  /**
   * The audit's case: 20 threads call at once against an account with nothing left, refilled 10 a
   * second. Each thread slept 1.6 s on its own before its call, so together they sent 12.5 a second
   * and met 429s. Now the simulator sees them one refill apart: at most the refill (plus the one
   * call the bucket holds) over the time they took, and no 429 (one is tolerated: it pauses all).
   */
  @Test
  void twentyThreadsTogetherSpendNoMoreThanTheRefill() throws Exception {
    List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
    sim.rateLimitRemaining(0);
    HerokuClient c = client(sleeps);
    sim.clearCallLog();
    int threads = 20;
    int each = 2;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long began = System.nanoTime();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    c.account();
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - began) / 1e9;
    List<Integer> seen = statuses("GET", "/account");
    long ok = seen.stream().filter(s -> s == 200 || s == 304).count(); // 304: its ETag
    long limited = seen.stream().filter(s -> s == 429).count();
    System.out.printf(
        "20 threads: %d answered, %d 429s in %.2f s (%.1f a second)%n",
        ok, limited, seconds, seen.size() / seconds);
    assertThat(ok).isEqualTo(threads * each);
    assertThat(limited).as("429s the simulator answered").isLessThanOrEqualTo(1);
    // the refill is 10 a second; what the bucket holds (1) and a tenth on top for the tolerance
    assertThat((double) seen.size())
        .as("calls the simulator saw in %.2f s", seconds)
        .isLessThanOrEqualTo(10 * seconds * 1.1 + 1);
  }

  /**
   * A 429 with {@code Retry-After: 2}: the thread that met it waits 2 s, not the 50 ms of the first
   * backoff, and a call another thread starts meanwhile waits it out too instead of finding out by
   * a 429 of its own.
   */
  @Test
  void aRetryAfterHoldsEveryThreadOfTheProcess() throws Exception {
    List<Duration> sleepsA = Collections.synchronizedList(new ArrayList<>());
    HerokuClient c = client(sleepsA);
    c.account(); // the budget read and plenty left: no turn to wait for
    Set<String> told = ConcurrentHashMap.newKeySet();
    CountDownLatch waiting = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicLong limitedAt = new java.util.concurrent.atomic.AtomicLong();
    c.budget()
        .onWait(
            d -> {
              told.add(Thread.currentThread().getName());
              limitedAt.compareAndSet(0, System.nanoTime());
              waiting.countDown();
            });
    // 20 calls' worth of refill owed at 10 a second: Retry-After: 2
    sim.rateLimitStorm(19);
    sim.clearCallLog();
    ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "caller"));
    try {
      // the other thread is ready before the first call, and calls as soon as that one waits
      Future<Long> b =
          pool.submit(
              () -> {
                Thread.currentThread().setName("other");
                assertThat(waiting.await(10, TimeUnit.SECONDS)).as("a 429 waited out").isTrue();
                c.account();
                return System.nanoTime();
              });
      Future<?> a = pool.submit(() -> c.account());
      a.get(20, TimeUnit.SECONDS);
      Duration tookB = Duration.ofNanos(b.get(20, TimeUnit.SECONDS) - limitedAt.get());
      System.out.printf(
          "Retry-After 2: waits %s, the other thread's call took %s, told %s, statuses %s%n",
          sleepsA, tookB, told, statuses("GET", "/account"));
      assertThat(statuses("GET", "/account"))
          .as("one 429, then an answer to each (200, or 304 from its ETag)")
          .hasSize(3)
          .startsWith(429)
          .filteredOn(x -> x != 429)
          .hasSize(2);
      assertThat(sleepsA)
          .as("the wait is what Retry-After said")
          .anyMatch(d -> d.compareTo(Duration.ofMillis(1900)) >= 0);
      assertThat(tookB)
          .as("the other thread's call is answered after the pause, from the 429 on")
          .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
      assertThat(told).as("both callers hear of the wait").contains("caller", "other");
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A new process believed 4500 were left until its first answer, so its first calls went out
   * unpaced into a low budget. A new client reads {@code GET /account/rate-limits} (free of the
   * limit) first, and its first call takes a turn; it reads it again no sooner than a minute later.
   */
  @Test
  void aNewClientReadsTheBudgetBeforeItsFirstCall() {
    sim.rateLimitRemaining(100);
    sim.clearCallLog();
    List<Duration> sleeps = new ArrayList<>();
    HerokuClient c = client(sleeps);
    assertThat(c.budget().remaining()).as("nothing read yet").isEqualTo(4500);
    c.account();
    c.account();
    List<String> calls = sim.callLog().stream().map(x -> x.method() + " " + x.path()).toList();
    assertThat(calls).containsExactly("GET /account/rate-limits", "GET /account", "GET /account");
    assertThat(sim.callLog()).noneMatch(x -> x.status() == 429);
    assertThat(sleeps).as("the first call already took a turn").isNotEmpty();
    assertThat(c.budget().remaining()).isLessThan(config.lowWatermark());
    assertThat(c.callCount()).as("the budget read is free: not counted").isEqualTo(2);
  }

  /**
   * Audit 21 L5: a low figure was read again only once a minute, and otherwise kept, of any age.
   * Now the figure grows by the refill since (10 a second here), and one under the low watermark is
   * read again from {@code GET /account/rate-limits} once it is 30 s old.
   */
  @Test
  void aLowFigure30sOldIsReadAgain() {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    sim.rateLimitRemaining(100);
    HerokuClient c = client(new ArrayList<>(), new RateBudget(config, nanos::get));
    c.account();
    long seen = c.budget().remaining();
    assertThat(seen).as("the simulator refills in real time too").isBetween(90L, 110L);
    nanos.addAndGet(Duration.ofSeconds(20).toNanos());
    assertThat(c.budget().remaining()).as("20 s of refill, 10 a second").isEqualTo(seen + 200);
    sim.rateLimitRemaining(3000); // the account refilled faster than assumed
    sim.clearCallLog();
    assertThat(c.rateRemaining()).as("20 s old: the estimate").isEqualTo(seen + 200);
    nanos.addAndGet(Duration.ofSeconds(11).toNanos());
    // the simulator refills in real time (10 a second here): a slow box may add some before the
    // read; the estimate would be about 400 (review 27 #8)
    assertThat(c.rateRemaining()).as("31 s old: read again").isBetween(2990L, 3200L);
    assertThat(statuses("GET", "/account/rate-limits")).containsExactly(200);
  }

  /**
   * Review 26: a thread whose turn was far out slept it out even when the budget recovered
   * meanwhile. Four calls queued 1, 11, 21 and 31 s out (a refill of one a second shared by 10
   * dynos) go at once when the budget's read finds the account refilled.
   */
  @Test
  void queuedTurnsGoAtOnceWhenTheBudgetIsFoundRecovered() throws Exception {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    HerokuConfig slow =
        TestHerokuClients.with(
            config,
            java.util.Map.of(
                "rateLimitRefillPerHour", 3600, "rateLimitMaxWait", Duration.ofSeconds(60)));
    RateBudget budget = new RateBudget(slow, nanos::get);
    budget.dynos(() -> 10);
    List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
    HerokuClient c =
        TestHerokuClients.recording(slow, budget, meters, sim.url(), sim.apiKey(), sleeps);
    sim.rateLimitRemaining(0);
    assertThat(c.rateRemaining()).as("read: nothing left").isLessThan(config.lowWatermark());
    sim.clearCallLog();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  try {
                    c.app("a-woken");
                  } catch (HerokuException.RateLimited e) {
                    throw e;
                  } catch (HerokuException e) {
                    // 404: sent
                  }
                  return null;
                }));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (sleeps.size() < 4 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(sleeps).as("four turns queued").hasSize(4).contains(Duration.ofSeconds(31));
      sim.rateLimitRemaining(4000);
      nanos.addAndGet(Duration.ofSeconds(31).toNanos()); // the low figure is old: read it again
      assertThat(c.rateRemaining()).isGreaterThan(config.lowWatermark());
      for (Future<?> f : done) {
        f.get(5, TimeUnit.SECONDS); // not the 31 s the last was queued for
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(statuses("GET", "/apps/a-woken"))
        .as("all four sent")
        .containsExactly(404, 404, 404, 404);
  }

  /** The test profile's config with another {@code rate-limit-max-wait}. */
  private HerokuConfig maxWait(Duration wait) {
    return TestHerokuClients.with(config, java.util.Map.of("rateLimitMaxWait", wait));
  }

  /**
   * Review 26 #1: a call refused unsent (its turn past {@code rate-limit-max-wait}) said "→ 429"
   * and the calls left, so each retry wrote a new event, and came back one interval later into the
   * same full line. Now its text is the same each time, names no 429, and it waits out the line.
   */
  @Test
  void aCallRefusedUnsentSaysSoTheSameWayAndWaitsOutTheLine() throws Exception {
    sim.rateLimitRemaining(0);
    RateBudget budget = new RateBudget(config);
    budget.dynos(() -> 10); // turns 1 s apart at the test refill
    HerokuClient c =
        new HerokuClient(
            maxWait(Duration.ofMillis(1500)),
            budget,
            meters,
            () -> new ApiEndpoint(sim.url(), sim.apiKey()),
            d -> Thread.sleep(d.toMillis()));
    c.account(); // the budget read: nothing left
    sim.clearCallLog();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<HerokuException.RateLimited> refused = Collections.synchronizedList(new ArrayList<>());
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        done.add(
            pool.submit(
                () -> {
                  try {
                    c.app("a-refused");
                  } catch (HerokuException.RateLimited e) {
                    refused.add(e);
                  } catch (HerokuException e) {
                    // 404: sent, not refused
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(refused).as("turns past 1.5 s are refused").hasSizeGreaterThanOrEqualTo(2);
    assertThat(refused.stream().map(Throwable::getMessage).distinct())
        .as("one text for every refusal")
        .hasSize(1)
        .allSatisfy(m -> assertThat(m).contains("not sent").doesNotContain("→", "calls left"));
    assertThat(refused)
        .allSatisfy(e -> assertThat(e.retryAfter()).isGreaterThanOrEqualTo(budget.interval()));
    // after a 429's pause of 5 s, a call that may wait 1.5 s comes back when the pause is over,
    // not one interval later into it
    budget.rateLimited(Duration.ofSeconds(5));
    try {
      c.app("a-refused");
      org.junit.jupiter.api.Assertions.fail("sent during a 429's pause");
    } catch (HerokuException.RateLimited e) {
      assertThat(e.retryAfter()).isGreaterThanOrEqualTo(Duration.ofMillis(3400));
      assertThat(e.getMessage()).isEqualTo(refused.get(0).getMessage());
    }
    assertThat(
            refused.stream()
                .map(e -> io.dynofleet.reconcile.HerokuPlatformAccess.mayLand(e))
                .distinct())
        .containsExactly(false);
  }

  /**
   * Review 26 #3: a call interrupted while it waits for its turn (the stop's budget ran out) never
   * left: it was reported as "no answer" (status 0), which a create or release takes as "may have
   * landed", keeping its sent mark for the send window.
   */
  @Test
  void aCallInterruptedWhileWaitingForItsTurnWasNotSent() throws Exception {
    sim.rateLimitRemaining(0);
    RateBudget budget = new RateBudget(config);
    budget.dynos(() -> 10);
    HerokuClient c =
        new HerokuClient(
            config,
            budget,
            meters,
            () -> new ApiEndpoint(sim.url(), sim.apiKey()),
            d -> Thread.sleep(d.toMillis()));
    c.account();
    sim.clearCallLog();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Throwable>> done = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      done.add(
          pool.submit(
              () -> {
                try {
                  c.app("a-stopped");
                  return null;
                } catch (RuntimeException e) {
                  return e;
                }
              }));
    }
    Thread.sleep(500);
    pool.shutdownNow(); // interrupts the threads still waiting
    List<Throwable> failures = new ArrayList<>();
    for (Future<Throwable> f : done) {
      Throwable e = f.get(10, TimeUnit.SECONDS);
      if (e instanceof HerokuException.RateLimited) failures.add(e);
    }
    assertThat(failures).as("calls interrupted in their wait").isNotEmpty();
    assertThat(failures)
        .allSatisfy(
            e ->
                assertThat(io.dynofleet.reconcile.HerokuPlatformAccess.mayLand((HerokuException) e))
                    .isFalse());
    assertThat(statuses("GET", "/apps/a-stopped"))
        .as("sent: only the calls whose turn came before the interrupt")
        .hasSizeLessThan(4);
  }

  /**
   * Review 26: a budget read that keeps failing (a key it is refused to, a proxy in front) was said
   * at DEBUG only, while every call waited for a try of it a minute. Said once at WARN now, without
   * the key, then at DEBUG until it is read again.
   */
  @Test
  void aFailingBudgetReadIsSaidOnceAtWarn() {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    RateBudget budget = new RateBudget(config, nanos::get);
    String wrong = "wrong-key-0123456789abcdef";
    HerokuClient c =
        new HerokuClient(
            config,
            budget,
            meters,
            () -> new ApiEndpoint(sim.url(), wrong),
            d -> Thread.sleep(d.toMillis()));
    try (io.dynofleet.LogCapture capture = io.dynofleet.LogCapture.of(HerokuClient.class)) {
      for (int i = 0; i < 3; i++) {
        try {
          c.account();
        } catch (HerokuException e) {
          // refused: the same key
        }
        nanos.addAndGet(Duration.ofSeconds(61).toNanos()); // the next read is due
      }
      List<java.util.logging.LogRecord> warned =
          capture.records().stream()
              .filter(r -> r.getLevel().getName().matches("WARN|WARNING"))
              .filter(r -> io.dynofleet.LogCapture.text(r).contains("/account/rate-limits"))
              .toList();
      assertThat(warned).as("three failed reads, one WARN").hasSize(1);
      assertThat(io.dynofleet.LogCapture.text(warned.get(0)))
          .contains("answered 401")
          .doesNotContain(wrong);
    }
  }
}
