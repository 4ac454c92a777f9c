// An MQTT 5 client with a persistent session that reconnects with exponential backoff
// (mqtt.js only retries at a fixed period). Its stores are kept across reconnects, so
// QoS 1 messages not yet acknowledged are sent again, not dropped.
import mqtt from "mqtt";
import { InputError } from "sae-edge";

const PROTOCOLS = ["mqtt:", "mqtts:", "tcp:", "ssl:", "tls:", "ws:", "wss:"];

/** The broker URL, checked: mqtt.js would retry a URL it cannot use for ever. */
export function brokerUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--broker ${url} is not a URL (e.g. mqtt://127.0.0.1:1883)`);
  }
  if (!PROTOCOLS.includes(u.protocol) || !u.hostname) throw new InputError(`--broker ${url}: expected an ${PROTOCOLS.map((p) => `${p}//`).join(", ")} URL with a host`);
  return url;
}

/**
 * @param {string} url  e.g. mqtt://127.0.0.1:1883
 * @param {object} o    clientId, minDelay/maxDelay (ms), onConnect(client, connack), log(event)
 */
export function connectWithBackoff(url, o) {
  const stores = { incomingStore: new mqtt.Store(), outgoingStore: new mqtt.Store() };
  const min = o.minDelay ?? 250, max = o.maxDelay ?? 10_000;
  let delay = min, timer = null, ending = false;
  const client = mqtt.connect(url, {
    clientId: o.clientId,
    protocolVersion: 5,
    clean: false,
    // MQTT 5 ends a session at disconnect unless it has an expiry: keep it a day.
    properties: { sessionExpiryInterval: 86_400 },
    reconnectPeriod: 0, // we reconnect ourselves, below
    connectTimeout: 5_000,
    ...stores,
  });
  client.on("connect", (connack) => {
    delay = min;
    o.log?.({ event: "connected", sessionPresent: connack.sessionPresent });
    o.onConnect?.(client, connack);
  });
  // mqtt.js counts only acknowledgements and ping responses as signs of life, and handles
  // packets one at a time: behind a backlog of publishes the ping response comes too late and
  // it drops a busy, healthy connection. A publish taken from the connection is a sign of life.
  client.on("packetreceive", (packet) => packet.cmd === "publish" && client.reschedulePing(true));
  client.on("error", (e) => o.log?.({ event: "mqtt-error", message: e.message }));
  client.on("close", () => {
    if (ending || timer) return;
    // Full jitter, so many gateways do not hammer a restarted broker at the same instant.
    const wait = Math.round(delay / 2 + (Math.random() * delay) / 2);
    o.log?.({ event: "disconnected", retryInMs: wait });
    timer = setTimeout(() => {
      timer = null;
      if (!ending) client.reconnect(stores);
    }, wait);
    delay = Math.min(max, delay * 2);
  });
  const end = () => {
    ending = true;
    clearTimeout(timer);
    return client.endAsync();
  };
  return { client, end };
}
