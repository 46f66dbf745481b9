package io.spindrift.local.mapping;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The entry point of one {@link FrozenContainers} container (a child JVM): builds the handler with its no-argument
 * constructor, configured from the environment as in Lambda, then serves invocations from the parent over a
 * loopback socket until the parent closes it. Frames: a length-prefixed UTF-8 event in; a status byte (0: response,
 * 1: function error) and a length-prefixed UTF-8 response or error message out.
 *
 * <p>Arguments: parent port, handler class, event class, response class.
 */
public final class ContainerMain {
  static final byte RESPONSE = 0;
  static final byte FUNCTION_ERROR = 1;

  private ContainerMain() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    InProcessInvoker<?, ?> function = invoker(Class.forName(args[1]), Class.forName(args[2]), Class.forName(args[3]));
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        DataOutputStream out = new DataOutputStream(socket.getOutputStream())) {
      while (true) {
        String event;
        try {
          event = read(in);
        } catch (EOFException parentClosed) {
          break;
        }
        try {
          write(out, RESPONSE, function.invoke(event));
        } catch (LambdaInvoker.FunctionError e) {
          write(out, FUNCTION_ERROR, e.getMessage());
        }
      }
    }
    System.exit(0);
  }

  @SuppressWarnings("unchecked")
  private static <I, O> InProcessInvoker<I, O> invoker(Class<?> handler, Class<I> eventType, Class<O> responseType)
      throws ReflectiveOperationException {
    RequestHandler<I, O> instance = (RequestHandler<I, O>) handler.getConstructor().newInstance();
    return new InProcessInvoker<>(instance, eventType, responseType, 1);
  }

  static String read(DataInputStream in) throws java.io.IOException {
    byte[] bytes = new byte[in.readInt()];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  static void write(DataOutputStream out, byte status, String text) throws java.io.IOException {
    out.writeByte(status);
    write(out, text);
  }

  static void write(DataOutputStream out, String text) throws java.io.IOException {
    byte[] bytes = (text == null ? "" : text).getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
    out.flush();
  }
}
