package io.dynofleet.ui;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

/**
 * Audit defect 10: the dashboard's files have unversioned names but were served {@code
 * Cache-Control: public, immutable, max-age=86400}, so after an upgrade a browser could run the old
 * dashboard against the new API for a day. They are now revalidated on every use: a conditional
 * request is a cheap 304 while the file is unchanged.
 */
@QuarkusTest
class DashboardCachingTests {

  @Test
  void dashboardFilesAreRevalidatedNotImmutable() {
    for (String path :
        new String[] {
          "/_dynofleet/",
          "/_dynofleet/index.html",
          "/_dynofleet/ui/app.js",
          "/_dynofleet/ui/style.css"
        }) {
      Response r = given().get(path);
      r.then()
          .statusCode(200)
          .header("Cache-Control", equalTo("no-cache"))
          .header("X-Frame-Options", equalTo("DENY"))
          .header(
              "Content-Security-Policy",
              equalTo(
                  "default-src 'self'; object-src 'none'; base-uri 'none'; "
                      + "form-action 'self'; frame-ancestors 'none'"))
          .header("Last-Modified", notNullValue());
      assertThat(r.header("Cache-Control")).as(path).doesNotContain("immutable");
      given()
          .header("If-Modified-Since", r.header("Last-Modified"))
          .get(path)
          .then()
          .statusCode(304);
    }
  }

  /**
   * Security review 2: Swagger UI kept the token given to Authorize in localStorage for good, and
   * any site could frame it (its Execute buttons, the token given).
   */
  @Test
  void swaggerUiIsNeverFramedAndKeepsNoToken() {
    Response r = given().get("/_dynofleet/q/swagger-ui/");
    r.then()
        .statusCode(200)
        .header("X-Frame-Options", equalTo("DENY"))
        .header("Content-Security-Policy", equalTo("frame-ancestors 'none'"));
    String page = r.asString() + given().get("/_dynofleet/q/swagger-ui/index.js").asString();
    assertThat(page)
        .doesNotContain("persistAuthorization: true")
        .doesNotContain("persistAuthorization:true")
        // and one an older version kept goes when the page loads
        .contains("localStorage.removeItem('authorized')");
  }

  @Test
  void thePrefixWithoutItsSlashLeadsToTheDashboard() {
    given()
        .redirects()
        .follow(false)
        .get("/_dynofleet")
        .then()
        .statusCode(302)
        .header("Location", "/_dynofleet/");
    given()
        .get("/_dynofleet")
        .then()
        .statusCode(200)
        .contentType(org.hamcrest.Matchers.containsString("text/html"));
  }
}
