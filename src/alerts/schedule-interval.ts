/**
 * How often a cron schedule fires, for the stall check: the longest gap between its next few fire
 * times, so a schedule with uneven gaps (weekdays only, twice a day at 9 and 17) is judged by the
 * longest wait it may legitimately have.
 */
import { createTask } from "node-cron";

/** Fire times looked at: enough to span a week-end in a weekdays-only schedule of one run a day. */
const FIRE_TIMES_SAMPLED = 8;

/**
 * The longest gap in milliseconds between the next `FIRE_TIMES_SAMPLED` fire times of `schedule`
 * (a node-cron expression already validated by `planSchedules`), counted from now. Throws
 * node-cron's error for an invalid expression.
 */
export async function scheduleIntervalMs(schedule: string): Promise<number> {
  // createTask parses without starting: no timer is left behind once it is destroyed.
  const task = createTask(schedule, () => {});
  try {
    const times = task.getNextRuns(FIRE_TIMES_SAMPLED).map((d) => d.getTime());
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, (times[i] as number) - (times[i - 1] as number));
    return gap;
  } finally {
    await task.destroy();
  }
}
