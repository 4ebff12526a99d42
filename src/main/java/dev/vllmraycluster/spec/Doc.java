package dev.vllmraycluster.spec;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What a stack key means, on the model field that holds it: the JSON Schema of stack files and
 * README's key table are generated from these (see {@link StackSchema}). The default itself is
 * declared once, in the record's constructor; {@link #dflt} is only for defaults that are not a
 * constant (derived from other fields), or to say what "not set" means.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Doc {
  /** One sentence for the key table and the schema's description. */
  String value();

  /** The default in words, when it is not a constant (e.g. "the node's address"). */
  String dflt() default "";

  /** A required key: the stack is refused without it. */
  boolean required() default false;

  /** Shown in the key table as the type, when the Java type does not say enough (e.g. "IPv4"). */
  String type() default "";
}
