package io.spindrift.local.mapping;

/** Invokes a function with an event serialized as AWS serializes it, and returns the response JSON. */
public interface LambdaInvoker {
  /**
   * @throws FunctionError when the function fails (Lambda would report {@code FunctionError: Unhandled})
   */
  String invoke(String eventJson) throws FunctionError;

  /** The function failed on an event. */
  final class FunctionError extends Exception {
    public FunctionError(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
