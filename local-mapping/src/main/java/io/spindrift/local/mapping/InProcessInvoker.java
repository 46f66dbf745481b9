package io.spindrift.local.mapping;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Semaphore;

/**
 * Calls a handler in this JVM the way the Lambda runtime does: the event JSON is deserialized with
 * {@code aws-lambda-java-serialization} (never a bare ObjectMapper: Kinesis timestamps and {@code Records}
 * casing need its mix-ins), and the response is serialized back to JSON. {@code concurrency} bounds how many
 * invocations run at once, like reserved concurrency.
 */
public final class InProcessInvoker<I, O> implements LambdaInvoker {
  private static final System.Logger LOG = System.getLogger(InProcessInvoker.class.getName());
  private final RequestHandler<I, O> handler;
  private final PojoSerializer<I> eventSerializer;
  private final PojoSerializer<O> responseSerializer;
  private final Semaphore slots;

  public InProcessInvoker(RequestHandler<I, O> handler, Class<I> eventType, Class<O> responseType, int concurrency) {
    this.handler = handler;
    this.eventSerializer = serializer(eventType);
    this.responseSerializer = serializer(responseType);
    this.slots = new Semaphore(concurrency);
  }

  static <T> PojoSerializer<T> serializer(Class<T> type) {
    ClassLoader loader = type.getClassLoader();
    if (LambdaEventSerializers.isLambdaSupportedEvent(type.getName())) {
      return LambdaEventSerializers.serializerFor(type, loader);
    }
    return JacksonFactory.getInstance().getSerializer(type);
  }

  @Override
  public String invoke(String eventJson) throws FunctionError {
    slots.acquireUninterruptibly();
    try {
      I event = eventSerializer.fromJson(eventJson);
      O response = handler.handleRequest(event, new LocalContext());
      if (response == null) {
        return "null";
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      responseSerializer.toJson(response, out);
      return out.toString(StandardCharsets.UTF_8);
    } catch (RuntimeException | Error e) {
      // Lambda logs an unhandled error with its stack trace before reporting FunctionError
      LOG.log(System.Logger.Level.WARNING, "Function error: " + e, e);
      throw new FunctionError(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    } finally {
      slots.release();
    }
  }

  /** A minimal Lambda context for local invocations. */
  private static final class LocalContext implements Context {
    private final String requestId = UUID.randomUUID().toString();
    private final long deadline = System.currentTimeMillis() + 900_000;

    @Override
    public String getAwsRequestId() {
      return requestId;
    }

    @Override
    public String getLogGroupName() {
      return "/aws/lambda/spindrift-local";
    }

    @Override
    public String getLogStreamName() {
      return "local";
    }

    @Override
    public String getFunctionName() {
      return "spindrift-local";
    }

    @Override
    public String getFunctionVersion() {
      return "$LATEST";
    }

    @Override
    public String getInvokedFunctionArn() {
      return "arn:aws:lambda:us-east-1:000000000000:function:spindrift-local";
    }

    @Override
    public CognitoIdentity getIdentity() {
      return null;
    }

    @Override
    public ClientContext getClientContext() {
      return null;
    }

    @Override
    public int getRemainingTimeInMillis() {
      return (int) Math.max(0, deadline - System.currentTimeMillis());
    }

    @Override
    public int getMemoryLimitInMB() {
      return 3008;
    }

    @Override
    public LambdaLogger getLogger() {
      return new LambdaLogger() {
        @Override
        public void log(String message) {
          System.err.println(message);
        }

        @Override
        public void log(byte[] message) {
          System.err.println(new String(message, StandardCharsets.UTF_8));
        }
      };
    }
  }
}
