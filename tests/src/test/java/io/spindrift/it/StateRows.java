package io.spindrift.it;

import io.spindrift.config.Setting;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** An app's durable state rows as sorted text (bucket, key, value; no markers): equal lists mean equal state. */
final class StateRows {
  private StateRows() {}

  static List<String> of(SpindriftRuntime runtime, String app) {
    String prefix = "APP#" + app + "#OP#";
    List<String> rows = new ArrayList<>();
    AwsClients.dynamoDb(runtime.config()).scanPaginator(b -> b.tableName(runtime.config().get(Setting.STATE_TABLE)))
        .items().forEach(item -> {
          String pk = item.get("pk").s();
          byte[] sk = item.get("sk").b().asByteArray();
          if (pk.startsWith(prefix) && sk.length > 0 && sk[0] != 0) {
            rows.add(pk.substring(prefix.length()) + " " + HexFormat.of().formatHex(sk) + " " + value(item));
          }
        });
    rows.sort(null);
    return rows;
  }

  private static String value(Map<String, AttributeValue> item) {
    AttributeValue v = item.get("v");
    return v != null ? HexFormat.of().formatHex(v.b().asByteArray()) : "ref:" + item.get("ref");
  }
}
