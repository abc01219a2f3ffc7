/**
 * "Am I the leader?" is asked here and nowhere else: schedules, window silences and summaries run
 * only on the leader, so several replicas (or a rolling update) never double-post or
 * double-silence. Until Lease-based election lands, a single replica is always the leader.
 */
export interface Leadership {
  isLeader(): boolean;
  /** Called with true when this replica becomes leader, false when it stops being one. */
  onChange(listener: (leader: boolean) => void): void;
}

export class SingleReplica implements Leadership {
  isLeader(): boolean {
    return true;
  }
  onChange(listener: (leader: boolean) => void): void {
    queueMicrotask(() => listener(true));
  }
}
