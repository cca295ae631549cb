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
}
