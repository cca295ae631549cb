package io.dynofleet.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which addresses a maintenance page may come from (review 25 #7): pure logic, no lookup. */
class PublicAddressTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.9.9.9",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "::10.0.0.1",
        "::ffff:127.0.0.1",
        "64:ff9b::a9fe:a9fe"
      })
  void notPublic(String literal) throws Exception {
    assertThat(PublicAddress.isPublic(InetAddress.getByName(literal))).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "1.1.1.1",
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.0.1",
        "172.32.0.1",
        "192.169.0.1",
        "2606:4700::1111",
        "64:ff9b::808:808"
      })
  void isPublic(String literal) throws Exception {
    assertThat(PublicAddress.isPublic(InetAddress.getByName(literal))).isTrue();
  }

  /** The API's check, on {@link java.net.URI#getHost}'s spelling: names are not looked up. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "LocalHost.",
        "db.localhost",
        "127.0.0.1",
        "[::1]",
        "[::ffff:10.0.0.1]",
        "169.254.169.254"
      })
  void namesNoPublicAddress(String host) {
    assertThat(PublicAddress.namesNoPublicAddress(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "pages.example.com",
        "localhost.example.com",
        "10.0.0.1.nip.io",
        "8.8.8.8",
        "[2606:4700::1111]",
        "no-such-host.invalid"
      })
  void namesAPublicAddressOrAName(String host) {
    assertThat(PublicAddress.namesNoPublicAddress(host)).isFalse();
  }

  /**
   * Security review 5 S5-8: a static backend's host as an IP literal in a link-local range (the
   * cloud metadata address among them), in any spelling a resolver takes: refused by the API and at
   * start, skipped when stored.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "169.254.169.254",
        "169.254.0.1",
        "169.254.169.254.",
        "2852039166",
        "0xa9fea9fe",
        "0XA9FEA9FE",
        "0251.0376.0251.0376",
        "0xa9.0xfe.0xa9.0xfe",
        "169.254.43518",
        "169.16689662",
        "[fe80::1]",
        "[FE80::a9fe:a9fe]",
        "[febf::1]",
        "[fe80::1%25eth0]",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "[::169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]"
      })
  void namesLinkLocal(String host) {
    assertThat(PublicAddress.namesLinkLocal(host)).isTrue();
  }

  /** Loopback and private ranges stay static backends (the sandbox and benchmarks use loopback). */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.253.255.255",
        "169.255.0.1",
        "254.169.169.254",
        "2851995647",
        "2852061184",
        "a9fea9fe",
        "169.254.169.254.nip.io",
        "metadata.google.internal",
        "0x1a9fea9fe",
        "169.254.169.254.1",
        "[::1]",
        "[fd00::1]",
        "[fec0::1]",
        "[2606:4700::1111]",
        "[::ffff:10.0.0.1]",
        ""
      })
  void namesNoLinkLocal(String host) {
    assertThat(PublicAddress.namesLinkLocal(host)).isFalse();
  }
}
