package io.dynofleet.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which configured public URLs can be the base of a webhook URL. */
class HookTargetTest {
  @Test
  void anHttpOrHttpsUrlWithAHostIsTakenWithoutItsTrailingSlash() {
    assertThat(HookTarget.publicBase("https://my-dynofleet.herokuapp.com/"))
        .contains("https://my-dynofleet.herokuapp.com");
    assertThat(HookTarget.publicBase("https://lb.example.com:8443/edge"))
        .contains("https://lb.example.com:8443/edge");
    assertThat(HookTarget.publicBase("http://localhost:8080")).contains("http://localhost:8080");
  }

  @Test
  void anythingElseIsRefused() {
    assertThat(HookTarget.publicBase("my-dynofleet.herokuapp.com")).isEmpty();
    assertThat(HookTarget.publicBase("ftp://host/")).isEmpty();
    assertThat(HookTarget.publicBase("https://")).isEmpty();
    assertThat(HookTarget.publicBase("https://host/?a=b")).isEmpty();
    assertThat(HookTarget.publicBase("https://host/#x")).isEmpty();
    assertThat(HookTarget.publicBase("https://ho st/")).isEmpty();
  }
}
