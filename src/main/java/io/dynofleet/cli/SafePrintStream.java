package io.dynofleet.cli;

import io.dynofleet.text.SafeText;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The CLI's stdout and stderr: every text printed goes through {@link SafeText#visible}, so no
 * control or bidi character the server, an older server or a redirecting host handed the CLI
 * reaches the terminal raw (a C1 CSI clears the screen on VTE-based terminals; security review 6
 * S6-1, S6-5). It is written as an escape ({@code \u009b}), which inside a JSON string ({@code -o
 * json}) is the same character, and visible elsewhere. Newlines, tabs and a {@code \r\n} line
 * ending pass: the CLI's own layout (review 31 R31-6).
 */
final class SafePrintStream extends PrintStream {
  private final PrintStream target;

  private SafePrintStream(PrintStream target) {
    super(target, true);
    this.target = target;
  }

  static PrintStream of(PrintStream target) {
    return target instanceof SafePrintStream ? target : new SafePrintStream(target);
  }

  private static String safe(String s) {
    return SafeText.visible(s, false);
  }

  @Override
  public void print(String s) {
    target.print(safe(s));
  }

  @Override
  public void print(Object o) {
    target.print(safe(String.valueOf(o)));
  }

  @Override
  public void print(char c) {
    target.print(safe(String.valueOf(c)));
  }

  @Override
  public void print(char[] s) {
    target.print(safe(new String(s)));
  }

  @Override
  public void println(String s) {
    target.println(safe(s));
  }

  @Override
  public void println(Object o) {
    target.println(safe(String.valueOf(o)));
  }

  @Override
  public void println(char c) {
    target.println(safe(String.valueOf(c)));
  }

  @Override
  public void println(char[] s) {
    target.println(safe(new String(s)));
  }

  @Override
  public void println() {
    target.println();
  }

  @Override
  public void print(boolean b) {
    target.print(b);
  }

  @Override
  public void print(int i) {
    target.print(i);
  }

  @Override
  public void print(long l) {
    target.print(l);
  }

  @Override
  public void print(float f) {
    target.print(f);
  }

  @Override
  public void print(double d) {
    target.print(d);
  }

  @Override
  public void println(boolean b) {
    target.println(b);
  }

  @Override
  public void println(int i) {
    target.println(i);
  }

  @Override
  public void println(long l) {
    target.println(l);
  }

  @Override
  public void println(float f) {
    target.println(f);
  }

  @Override
  public void println(double d) {
    target.println(d);
  }

  @Override
  public PrintStream format(String format, Object... args) {
    target.print(safe(String.format(format, args)));
    return this;
  }

  @Override
  public PrintStream format(Locale l, String format, Object... args) {
    target.print(safe(String.format(l, format, args)));
    return this;
  }

  @Override
  public PrintStream printf(String format, Object... args) {
    return format(format, args);
  }

  @Override
  public PrintStream printf(Locale l, String format, Object... args) {
    return format(l, format, args);
  }

  @Override
  public PrintStream append(CharSequence csq) {
    print(String.valueOf(csq));
    return this;
  }

  @Override
  public PrintStream append(CharSequence csq, int start, int end) {
    print(String.valueOf(csq == null ? "null" : csq.subSequence(start, end)));
    return this;
  }

  @Override
  public PrintStream append(char c) {
    print(c);
    return this;
  }

  @Override
  public void flush() {
    target.flush();
  }

  @Override
  public boolean checkError() {
    return target.checkError();
  }
}
