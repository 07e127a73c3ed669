import { credentials } from '@grpc/grpc-js';
import { alertingV1 } from '@oncall/contracts';
import { bearerToken } from '@oncall/shared';

const STATUS: Record<string, alertingV1.AlertStatus> = {
  triggered: alertingV1.AlertStatus.ALERT_STATUS_TRIGGERED,
  acknowledged: alertingV1.AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
  resolved: alertingV1.AlertStatus.ALERT_STATUS_RESOLVED,
};

/** Streams alerts from query-api, as JSON-friendly objects (enum names, ISO times). */
export async function* listAlertsOverGrpc(address: string, status?: string): AsyncGenerator<unknown> {
  const statuses = status === undefined ? [] : [STATUS[status] ?? alertingV1.AlertStatus.ALERT_STATUS_UNSPECIFIED];
  const client = new alertingV1.AlertServiceClient(address, credentials.createInsecure(), bearerToken(process.env.ONCALL_API_TOKEN));
  try {
    const stream = client.listAlerts(alertingV1.ListAlertsRequest.fromPartial({ statuses }));
    for await (const alert of stream as AsyncIterable<alertingV1.Alert>) yield alertingV1.Alert.toJSON(alert);
  } finally {
    client.close();
  }
}
