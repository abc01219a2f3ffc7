// Alertmanager's two wire formats the bot speaks: the webhook payload it
// receives (version 4) and the API v2 objects it reads and writes (silences,
// alerts). Only the webhook payload is validated with a schema: it arrives from
// outside; API v2 responses are read defensively where they are used.
import { z } from "zod";

const labelSet = z.record(z.string(), z.string());

// Timestamps stay strings: Go writes RFC 3339 with nanoseconds and sometimes a zone
// offset, and a webhook that rejected an odd timestamp would drop an alert.
const timestamp = z.string();

export const webhookAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: timestamp,
  /** "0001-01-01T00:00:00Z" while the alert has no known end. */
  endsAt: timestamp,
  generatorURL: z.string().default(""),
  fingerprint: z.string().min(1),
});

/** The body Alertmanager POSTs to a webhook receiver (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const webhookPayloadSchema = z.object({
  version: z.literal("4"),
  groupKey: z.string().min(1),
  /** How many alerts were left out because of the receiver's max_alerts. */
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string(),
  alerts: z.array(webhookAlertSchema),
});

export type WebhookAlert = z.output<typeof webhookAlertSchema>;
export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

// ---- API v2 ----------------------------------------------------------------

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false: "!=" / "!~". Absent means equal. */
  isEqual?: boolean;
}

export type SilenceState = "active" | "pending" | "expired";

/** GET /api/v2/silences, GET /api/v2/silence/{id} */
export interface Silence {
  id: string;
  status: { state: SilenceState };
  updatedAt: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** POST /api/v2/silences (with `id` it updates that silence). */
export interface PostableSilence {
  id?: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** POST /api/v2/alerts */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export type AlertState = "unprocessed" | "active" | "suppressed";

/** GET /api/v2/alerts */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL?: string;
  receivers: { name: string }[];
  status: { state: AlertState; silencedBy: string[]; inhibitedBy: string[]; mutedBy?: string[] };
}

/** GET /api/v2/alerts/groups: Alertmanager's aggregation groups, with every alert they hold. */
export interface AlertGroup {
  labels: Record<string, string>;
  receiver: { name: string };
  alerts: GettableAlert[];
}
