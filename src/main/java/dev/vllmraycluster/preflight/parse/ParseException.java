package dev.vllmraycluster.preflight.parse;

/** A command printed something these parsers do not understand; the message quotes it. */
public class ParseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ParseException(String message) {
    super(message);
  }
}
