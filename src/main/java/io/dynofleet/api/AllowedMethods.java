package io.dynofleet.api;

import io.quarkus.arc.Arc;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The methods each API path answers, read once from the JAX-RS resources themselves, for the {@code
 * Allow} header of a 405 (RFC 9110 15.5.6 requires it). RESTEasy Reactive throws its {@code
 * NotAllowedException} without one.
 */
final class AllowedMethods {
  private record Route(Pattern path, String method) {}

  private static final Pattern PARAM =
      Pattern.compile("\\{\\s*\\w[\\w.-]*\\s*(?::\\s*((?:[^{}]|\\{[^{}]*})+))?}");
  private static volatile List<Route> routes;

  private AllowedMethods() {}

  /** The methods answered at {@code path} (relative to the REST root, e.g. {@code /v1/pools}). */
  static Set<String> at(String path) {
    String p = "/" + strip(path);
    Set<String> out = new TreeSet<>();
    for (Route r : routes()) {
      if (r.path().matcher(p).matches()) {
        out.add(r.method());
      }
    }
    if (!out.isEmpty()) {
      if (out.contains("GET")) {
        out.add("HEAD"); // JAX-RS answers HEAD wherever GET is
      }
      out.add("OPTIONS"); // and OPTIONS on every resource
    }
    return out;
  }

  private static List<Route> routes() {
    List<Route> r = routes;
    if (r == null) {
      List<Route> found = new ArrayList<>();
      for (Bean<?> bean :
          Arc.container().beanManager().getBeans(Object.class, Any.Literal.INSTANCE)) {
        Class<?> c = bean.getBeanClass();
        if (!c.isInterface() && c.isAnnotationPresent(Path.class)) {
          addResource(c, found);
        }
      }
      routes = r = List.copyOf(found);
    }
    return r;
  }

  static void addResource(Class<?> c, List<Route> out) {
    String base = strip(c.getAnnotation(Path.class).value());
    for (Method m : c.getMethods()) {
      String verb = null;
      for (Annotation a : m.getAnnotations()) {
        HttpMethod h = a.annotationType().getAnnotation(HttpMethod.class);
        if (h != null) {
          verb = h.value();
        }
      }
      if (verb == null) {
        continue;
      }
      Path sub = m.getAnnotation(Path.class);
      String full = sub == null ? base : base + "/" + strip(sub.value());
      out.add(new Route(Pattern.compile(template(full)), verb));
    }
  }

  /** A JAX-RS path template as a regex: {@code {name}} is one segment, {@code {name: re}} is re. */
  private static String template(String path) {
    StringBuilder b = new StringBuilder("/");
    Matcher m = PARAM.matcher(path);
    int at = 0;
    while (m.find()) {
      b.append(Pattern.quote(path.substring(at, m.start())));
      b.append(m.group(1) == null ? "[^/]+" : "(?:" + m.group(1).trim() + ")");
      at = m.end();
    }
    b.append(Pattern.quote(path.substring(at))).append("/?");
    return b.toString();
  }

  private static String strip(String s) {
    String t = s == null ? "" : s;
    while (t.startsWith("/")) {
      t = t.substring(1);
    }
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }
}
